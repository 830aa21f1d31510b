/**
 * One pure check of a filled Config: returns every problem as a sentence naming the flag, so the CLI can print
 * them all at once and exit with status 2.
 */
import net from 'node:net';
import type { Config, TargetConfig } from './config.js';
import { parseRedshiftHost } from './redshift-endpoint.js';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

function checkTarget(t: TargetConfig, where: string): string[] {
  const problems: string[] = [];
  if (!t.upstreamHost && !t.clusterId && !t.workgroup) {
    problems.push(`${where}: give --upstream HOST[:PORT], --cluster-id or --workgroup`);
  }
  if (t.upstreamHost && !t.clusterId && !t.workgroup && !parseRedshiftHost(t.upstreamHost)) {
    problems.push(`${where}: ${t.upstreamHost} is not a Redshift endpoint name, so pass --cluster-id (or --workgroup)`);
  }
  if (t.clusterId && t.workgroup) problems.push(`${where}: cannot use --cluster-id with --workgroup`);
  if (t.withIam && t.dbUser) problems.push(`${where}: cannot use --db-user with --with-iam (the IAM identity is the database user)`);
  if (t.withIam && t.workgroup) problems.push(`${where}: --with-iam is for provisioned clusters; Serverless always uses the IAM identity`);
  if (t.workgroup && (t.dbGroups.length > 0 || t.autoCreate)) {
    problems.push(`${where}: --db-groups and --auto-create apply to provisioned clusters only`);
  }
  if (t.durationSeconds !== undefined && (!Number.isInteger(t.durationSeconds) || t.durationSeconds < 900 || t.durationSeconds > 3600)) {
    problems.push(`${where}: --duration must be a whole number of seconds from 900 to 3600`);
  }
  if (!Number.isInteger(t.upstreamPort) || t.upstreamPort < 1 || t.upstreamPort > 65535) {
    problems.push(`${where}: upstream port must be 1–65535`);
  }
  if (t.awsEndpointUrl && !/^https?:\/\/[^/]/.test(t.awsEndpointUrl)) {
    problems.push(`${where}: --aws-endpoint-url must be an http(s) URL`);
  }
  if (t.externalId && !t.assumeRoleArn) problems.push(`${where}: --external-id needs --assume-role`);
  return problems;
}

export function validateConfig(config: Config): string[] {
  const problems: string[] = [];
  if (config.listeners.length === 0) problems.push('no listener configured');
  const seen = new Set<string>();
  config.listeners.forEach((l, i) => {
    const where = config.listeners.length > 1 ? `listener ${i + 1} (${l.host}:${l.port})` : '--listen';
    if (!Number.isInteger(l.port) || l.port < 0 || l.port > 65535) problems.push(`${where}: port must be 0–65535`);
    if (!isLoopback(l.host)) {
      problems.push(`${where}: ${l.host} is not a loopback address; this version lets clients in without a password, so it listens on loopback only (127.0.0.1, ::1, localhost)`);
    }
    const key = `${l.host}:${l.port}`;
    if (l.port !== 0 && seen.has(key)) problems.push(`${where}: ${key} is used by two listeners`);
    seen.add(key);
    problems.push(...checkTarget(l.target, where));
  });
  if (config.startupTimeoutMs <= 0) problems.push('--startup-timeout must be positive');
  if (config.connectTimeoutMs <= 0) problems.push('--connect-timeout must be positive');
  return problems;
}
