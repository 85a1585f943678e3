import { createBreaker, CircuitState, ManualClock } from '../../lib';

describe('engine smoke', () => {
  it('opens after consecutive failures and rejects the next call', async () => {
    const b = createBreaker('p', { failureThreshold: 2 }, { clock: new ManualClock() });
    for (let i = 0; i < 2; i++) await expect(b.executePromise(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(b.state).toBe(CircuitState.OPEN);
  });
});
