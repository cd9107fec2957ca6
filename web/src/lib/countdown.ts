/** What is left until `targetMs` at `nowMs`, in whole seconds (rounded up: 0.2 s left is 1). */
export function secondsLeft(targetMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((targetMs - nowMs) / 1000));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `02:13:05`; with days, `3d 02:13:05` (the `d` comes from the catalogue: `dayUnit`). */
export function formatCountdown(seconds: number, dayUnit = 'd'): string {
  const days = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  const clock = `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
  return days > 0 ? `${days}${dayUnit} ${clock}` : clock;
}
