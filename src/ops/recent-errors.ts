/**
 * The last errors clients were refused with, newest first, for the status page: what each client was sent (message
 * and hint — never a secret: these texts went to the client), when, on which listener. Bounded.
 */
export interface RecentError {
  readonly at: Date;
  readonly listener: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string | undefined;
}

export class RecentErrors {
  private readonly items: RecentError[] = [];

  constructor(private readonly limit = 20) {}

  push(e: RecentError): void {
    this.items.unshift(e);
    if (this.items.length > this.limit) this.items.length = this.limit;
  }

  list(): readonly RecentError[] {
    return this.items;
  }
}
