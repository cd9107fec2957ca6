import { useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * A button whose action asks first: pressing it shows `question` with a confirming button and
 * "Keep it". For what cannot be undone from here (cancel a booking, delete a show).
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span role="group" aria-label={question}>
      <span className="question">{question}</span>{' '}
      <button
        type="button"
        className="danger"
        onClick={() => void onConfirm().finally(() => setAsking(false))}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {t('booking.keep')}
      </button>
    </span>
  );
}
