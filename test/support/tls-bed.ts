/**
 * The real test bed (PostgreSQL with TLS; a certificate naming `localhost` and `127.0.0.1` only), started once for a
 * test file, with a trust store holding its CA as the proxy would build it. Call at the top level of the file.
 */
import type tls from 'node:tls';
import { afterAll, beforeAll } from 'vitest';
import { trustStore } from '../../src/upstream/connect-tls.js';
import { startTestBed } from './pg-server.js';
import type { TestBed } from './pg-server.js';

export interface TlsBed {
  readonly bed: TestBed;
  readonly trusted: tls.SecureContext;
}

export function useTlsBed(): TlsBed {
  const state: { bed?: TestBed; trusted?: tls.SecureContext } = {};
  beforeAll(async () => {
    state.bed = await startTestBed();
    state.trusted = trustStore([state.bed.caPem]);
  });
  afterAll(async () => {
    await state.bed?.stop();
  });
  return {
    get bed(): TestBed {
      if (!state.bed) throw new Error('the test bed is not started: call useTlsBed() at the top level of the file');
      return state.bed;
    },
    get trusted(): tls.SecureContext {
      if (!state.trusted) throw new Error('the test bed is not started: call useTlsBed() at the top level of the file');
      return state.trusted;
    },
  };
}
