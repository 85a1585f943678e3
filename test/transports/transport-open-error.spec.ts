// What an open circuit becomes per transport, read at the mapping itself: Kafka redelivery, gRPC pushback
// for half-open, forced-open and throttled rejections, keyed breakers, and handler metadata.
import { Controller } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import {
  EventPattern,
  GrpcMethod,
  KafkaContext,
  KafkaRetriableException,
  MessagePattern,
  RpcException,
  TcpContext,
} from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { GraphQLError } from 'graphql';
import { CircuitOpenError, CircuitState } from '../../lib';
import { graphqlOpenError } from '../../lib/nest/transports/graphql-open-error';
import { grpcOpenStatus } from '../../lib/nest/transports/grpc-open-error';
import { rpcHandlerInfo, rpcOpenError } from '../../lib/nest/transports/rpc-open-error';
import { wsOpenError } from '../../lib/nest/transports/ws-open-error';

const open = new CircuitOpenError('pricing', CircuitState.OPEN, 2_500);
const payload = {
  code: 'ECIRCUITOPEN',
  message: 'circuit breaker "pricing" is open; retry in 2500 ms',
  breaker: 'pricing',
  state: 'open',
  retryAfterMs: 2_500,
};
const kafka = new KafkaContext([
  {} as never,
  0,
  'prices',
  {} as never,
  (() => Promise.resolve()) as never,
  {} as never,
]);
const tcp = new TcpContext([{} as never, 'price']);

@Controller()
class Handlers {
  @MessagePattern('price') price(): void {}
  @EventPattern('price_changed') changed(): void {}
  @GrpcMethod('Pricing', 'Quote') quote(): void {}
}

describe('rpcHandlerInfo', () => {
  it('tells message, event and gRPC handlers apart by their Nest metadata', () => {
    const proto = Handlers.prototype;
    expect(rpcHandlerInfo(proto.price)).toEqual({ isEvent: false, isGrpc: false });
    expect(rpcHandlerInfo(proto.changed)).toEqual({ isEvent: true, isGrpc: false });
    expect(rpcHandlerInfo(proto.quote)).toEqual({ isEvent: false, isGrpc: true });
    expect(rpcHandlerInfo(undefined)).toEqual({ isEvent: false, isGrpc: false });
  });
});

describe('rpcOpenError', () => {
  const message = { isEvent: false, isGrpc: false };
  const event = { isEvent: true, isGrpc: false };

  it('makes a message handler’s open circuit an RpcException of the open-circuit object', () => {
    const mapped = rpcOpenError(open, tcp, message);
    expect(mapped).toBeInstanceOf(RpcException);
    expect((mapped as RpcException).getError()).toEqual(payload);
  });

  it('makes a Kafka event handler’s open circuit a KafkaRetriableException (the message is redelivered)', () => {
    const mapped = rpcOpenError(open, kafka, event);
    expect(mapped).toBeInstanceOf(KafkaRetriableException);
    expect(mapped.message).toBe(payload.message);
  });

  it('answers a Kafka message handler (request-reply) with the object, like any transport', () => {
    expect((rpcOpenError(open, kafka, message) as RpcException).getError()).toEqual(payload);
  });

  it('rethrows the CircuitOpenError itself from an event handler on other transports', () => {
    expect(rpcOpenError(open, tcp, event)).toBe(open);
  });

  it('recognises gRPC by its Metadata context even without the handler’s metadata (exception filters)', () => {
    const status = (rpcOpenError(open, new Metadata(), message) as RpcException).getError() as {
      code: number;
      metadata: Metadata;
    };
    expect(status.code).toBe(14);
    expect(status.metadata.get('grpc-retry-pushback-ms')).toEqual(['2500']);
  });
});

describe('grpcOpenStatus', () => {
  const pushback = (error: CircuitOpenError) =>
    (grpcOpenStatus(error).metadata as Metadata).get('grpc-retry-pushback-ms');

  it('asks for 1000 ms while the half-open probes are taken (as Retry-After: 1)', () => {
    expect(pushback(new CircuitOpenError('pricing', CircuitState.HALF_OPEN, 0))).toEqual(['1000']);
  });

  it('gives no pushback for a forced-open circuit or a throttled call', () => {
    expect(pushback(new CircuitOpenError('pricing', CircuitState.FORCED_OPEN, 0))).toEqual([]);
    const throttled = Object.assign(new CircuitOpenError('pricing', CircuitState.CLOSED, 0), {
      reason: 'throttled',
    });
    expect(pushback(throttled)).toEqual([]);
  });
});

describe('graphqlOpenError and wsOpenError', () => {
  it('builds the GraphQL error with SERVICE_UNAVAILABLE extensions, and the key of a keyed breaker', () => {
    const keyed = Object.assign(new CircuitOpenError('pricing', CircuitState.OPEN, 2_500), {
      key: 'tenant-7',
    });
    const mapped = graphqlOpenError(keyed) as GraphQLError;
    expect(mapped).toBeInstanceOf(GraphQLError);
    expect(mapped.message).toBe(payload.message);
    expect(mapped.extensions).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      breaker: 'pricing',
      state: 'open',
      retryAfterMs: 2_500,
      key: 'tenant-7',
    });
  });

  it('builds the WsException of the open-circuit object', () => {
    const mapped = wsOpenError(open);
    expect(mapped).toBeInstanceOf(WsException);
    expect((mapped as WsException).getError()).toEqual(payload);
  });
});
