/** A count per key and over all keys, where a key whose count falls to zero is dropped (the warm pool's logins in flight and resets). */
export class KeyTally {
  private readonly counts = new Map<string, number>();
  private sum = 0;

  get total(): number {
    return this.sum;
  }

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }

  add(key: string): void {
    this.counts.set(key, this.of(key) + 1);
    this.sum++;
  }

  remove(key: string): void {
    const left = this.of(key) - 1;
    if (left < 0) return;
    this.sum--;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
}
