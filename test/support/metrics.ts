/**
 * Prometheus text with the instance_id label taken out (every series has it: INSTANCE_ID), so
 * a test can name a series as `booking_outcomes_total{code="CONFIRMED"}` whichever process
 * it is.
 */
export function withoutInstance(text: string): string {
  return text.replace(/\{instance_id="[^"]*"\}/g, '').replace(/,instance_id="[^"]*"/g, '');
}
