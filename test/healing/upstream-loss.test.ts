import { describe, expect, it } from 'vitest';
import { HealBudget, MAX_HEALS } from '../../src/healing/heal-budget.js';
import { SessionTracker } from '../../src/healing/session-tracker.js';
import { planForLoss } from '../../src/healing/upstream-loss.js';
import { error, query } from './wire.js';

describe('heal budget (issue 18 finding 5)', () => {
  it('allows MAX_HEALS heals in the window, with growing waits between them, then ends the session', () => {
    const t = new SessionTracker();
    const delays: number[] = [];
    for (let i = 0; i < MAX_HEALS; i++) {
      expect(planForLoss(t, 'Redshift closed the connection').kind).toBe('heal');
      delays.push(t.budget.takeDelay());
    }
    expect(delays).toEqual([0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    const plan = planForLoss(t, 'Redshift closed the connection');
    expect(plan).toMatchObject({ kind: 'fatal', error: { code: '08006' } });
    expect(plan.kind === 'fatal' && plan.error.detail).toMatch(/already restored this session 10 times/);
  });

  it('heals again once the window has passed', () => {
    let now = 0;
    const b = new HealBudget(2, 1_000, () => now);
    expect([b.charge(), b.charge(), b.charge()]).toEqual([true, true, false]);
    now = 1_500;
    expect(b.charge()).toBe(true);
  });
});

describe('protocol errors end the session (issue 18 finding 5)', () => {
  it('a FATAL the client caused (08P01) is passed on and the session ends; an administrator\'s (57P01) heals', () => {
    const t = new SessionTracker();
    const fault = planForLoss(t, 'Redshift closed the connection', error('08P01', 'FATAL'));
    expect(fault).toMatchObject({ kind: 'fatal', error: { code: '08P01', severity: 'FATAL' } });
    expect(planForLoss(new SessionTracker(), 'Redshift closed the connection', error('57P01', 'FATAL')).kind).toBe('heal');
  });

  it('a loss while a client message is half sent is never healed', () => {
    const t = new SessionTracker();
    t.fromClient.observe(query('select 1').subarray(0, 7));
    expect(planForLoss(t, 'Redshift closed the connection')).toMatchObject({ kind: 'fatal', error: { code: '08006' } });
  });
});
