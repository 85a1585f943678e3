// Boots real Nest applications on Express or Fastify for the e2e specs.
import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { App } from 'supertest/types';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Nest log lines, kept for assertions (and kept off the console). */
export class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  log(message: unknown, context?: string) {
    this.lines.push({ level: 'log', message: String(message), context });
  }
  warn(message: unknown, context?: string) {
    this.lines.push({ level: 'warn', message: String(message), context });
  }
  error(message: unknown, ...rest: unknown[]) {
    this.lines.push({ level: 'error', message: String(message), context: String(rest.at(-1)) });
  }
  debug() {}
  verbose() {}
  fatal(message: unknown) {
    this.lines.push({ level: 'fatal', message: String(message) });
  }
}

/** Compiles `metadata` and starts it on `platform` (no port: supertest talks to the server directly). */
export async function bootApp(
  platform: Platform,
  metadata: ModuleMetadata,
  logger: LoggerService | false = new RecordingLogger(),
  /** Runs before init (global filters and pipes must be in place when routes are registered). */
  configure: (app: INestApplication<App>) => void = () => undefined,
): Promise<INestApplication<App>> {
  const moduleRef = await Test.createTestingModule(metadata)
    .setLogger(logger || new RecordingLogger())
    .compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter())
      : moduleRef.createNestApplication();
  app.useLogger(logger || new RecordingLogger());
  configure(app as INestApplication<App>);
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app as INestApplication<App>;
}
