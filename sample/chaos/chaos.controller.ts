import { BadRequestException, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import type { ChaosMode, ChaosStatus } from '../downstream/chaos-server';
import { DOWNSTREAM_NAMES, DownstreamServers, type DownstreamName } from '../downstream/downstream-servers';

const ACTIONS: Record<string, ChaosMode> = { fail: 'fail', hang: 'hang', flaky: 'flaky', heal: 'ok' };

/** Breaks and heals the downstream APIs: `POST /chaos/payment/fail`, `/chaos/inventory/heal`, ... */
@Controller('chaos')
export class ChaosController {
  constructor(private readonly downstream: DownstreamServers) {}

  /** Each downstream's URL, mode and request counts. */
  @Get()
  status(): Promise<Record<DownstreamName, ChaosStatus & { url: string }>> {
    return this.downstream.status();
  }

  /** Breaks or heals one merchant at the payment API: `POST /chaos/payment/merchants/acme/fail`. */
  @Post('payment/merchants/:merchantId/:action')
  @HttpCode(200)
  merchant(@Param('merchantId') merchantId: string, @Param('action') action: string): Promise<unknown> {
    if (action !== 'fail' && action !== 'heal') {
      throw new BadRequestException(`unknown merchant chaos action "${action}", expected fail or heal`);
    }
    return this.downstream.setMerchantMode('payment', merchantId, action);
  }

  @Post(':service/:action')
  @HttpCode(200)
  set(@Param('service') service: string, @Param('action') action: string): Promise<ChaosStatus> {
    if (!(DOWNSTREAM_NAMES as readonly string[]).includes(service)) {
      throw new BadRequestException(
        `unknown downstream "${service}", expected one of ${DOWNSTREAM_NAMES.join(', ')}`,
      );
    }
    if (!Object.hasOwn(ACTIONS, action)) {
      throw new BadRequestException(
        `unknown chaos action "${action}", expected one of ${Object.keys(ACTIONS).join(', ')}`,
      );
    }
    return this.downstream.setMode(service as DownstreamName, ACTIONS[action]);
  }
}
