import { Module, type DynamicModule } from '@nestjs/common';
import { DOWNSTREAM_TARGETS, DownstreamServers, type DownstreamTargets } from './downstream-servers';

/** The shop's downstream APIs, available to every module. */
@Module({})
export class DownstreamModule {
  static forRoot(targets: DownstreamTargets): DynamicModule {
    return {
      module: DownstreamModule,
      global: true,
      providers: [{ provide: DOWNSTREAM_TARGETS, useValue: targets }, DownstreamServers],
      exports: [DownstreamServers],
    };
  }
}
