import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CallTimeoutError } from '../lib';

/** A downstream call the breaker gave up on (`callTimeoutMs`) is the gateway timing out: 504, not 500. */
@Catch(CallTimeoutError)
export class CallTimeoutFilter implements ExceptionFilter<CallTimeoutError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: CallTimeoutError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const body = {
      statusCode: 504,
      error: 'Gateway Timeout',
      message: error.message,
      breaker: error.breakerName,
    };
    httpAdapter.reply(host.switchToHttp().getResponse(), body, 504);
  }
}
