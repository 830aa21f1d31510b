/**
 * Finding the data-plane endpoint when only a cluster id or workgroup name was given: DescribeClusters /
 * GetWorkgroup, through the same identity and endpoint override as the credential calls.
 */
import { DescribeClustersCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import { GetWorkgroupCommand, RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import { sdkClientConfig } from './aws-clients.js';
import type { AwsSettings } from './aws-clients.js';

/** The cluster or workgroup exists but has no address to connect to yet (creating, paused, modifying). */
export class EndpointNotReadyError extends Error {
  constructor(readonly what: string, readonly status: string) {
    super(`${what} has no endpoint yet (status ${status})`);
    this.name = 'EndpointNotReadyError';
  }
}

export interface DiscoveredEndpoint {
  readonly host: string;
  readonly port: number;
}

export async function discoverClusterEndpoint(clusterId: string, aws: AwsSettings): Promise<DiscoveredEndpoint> {
  const client = new RedshiftClient(sdkClientConfig(aws));
  try {
    const out = await client.send(new DescribeClustersCommand({ ClusterIdentifier: clusterId }));
    const ep = out.Clusters?.[0]?.Endpoint;
    if (!ep?.Address) throw new EndpointNotReadyError(`cluster ${clusterId}`, out.Clusters?.[0]?.ClusterStatus ?? 'unknown');
    return { host: ep.Address, port: ep.Port ?? 5439 };
  } finally {
    client.destroy();
  }
}

export async function discoverWorkgroupEndpoint(workgroup: string, aws: AwsSettings): Promise<DiscoveredEndpoint> {
  const client = new RedshiftServerlessClient(sdkClientConfig(aws));
  try {
    const out = await client.send(new GetWorkgroupCommand({ workgroupName: workgroup }));
    const ep = out.workgroup?.endpoint;
    if (!ep?.address) throw new EndpointNotReadyError(`workgroup ${workgroup}`, out.workgroup?.status ?? 'unknown');
    return { host: ep.address, port: ep.port ?? 5439 };
  } finally {
    client.destroy();
  }
}
