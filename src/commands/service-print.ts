/**
 * `service print --systemd|--launchd [--config FILE]`: prints a systemd user unit or a launchd agent that runs this
 * executable, with this node and the config file's absolute path filled in (default
 * ~/.config/redshift-auth-proxy/proxy.yaml). It only prints: where to put it is in the text's first lines.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchdAgent, systemdUnit } from '../service/unit-files.js';
import type { ServicePaths } from '../service/unit-files.js';

export type ServiceKind = 'systemd' | 'launchd';

export function servicePaths(configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): ServicePaths {
  const home = os.homedir();
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin.js');
  const nodeDir = path.dirname(process.execPath);
  const basePath = env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  return {
    node: process.execPath,
    bin,
    config: path.resolve(configFile ?? path.join(home, '.config', 'redshift-auth-proxy', 'proxy.yaml')),
    logFile: path.join(home, 'Library', 'Logs', 'redshift-auth-proxy.log'),
    path: basePath.split(path.delimiter).includes(nodeDir) ? basePath : `${nodeDir}${path.delimiter}${basePath}`,
  };
}

export function runServicePrint(kind: ServiceKind, configFile: string | undefined, out: NodeJS.WritableStream = process.stdout): number {
  const paths = servicePaths(configFile);
  out.write(kind === 'systemd' ? systemdUnit(paths) : launchdAgent(paths));
  return 0;
}
