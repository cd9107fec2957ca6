import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import { ApiError } from '../api/client';
import { describeError, fieldText } from './words';

/**
 * A form's problems from the server: each field's first, worded by its code, to show next to
 * it; anything else as one general problem.
 */
export function useServerProblems() {
  const { t } = useTranslation();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string>();
  return {
    fields,
    general,
    clear: () => {
      setFields({});
      setGeneral(undefined);
    },
    take: (error: unknown) => {
      if (error instanceof ApiError && error.fields.length > 0) {
        const byField: Record<string, string> = {};
        for (const f of error.fields) {
          byField[f.field] ??= fieldText(t, f.code);
        }
        setFields(byField);
      } else {
        setGeneral(describeError(t, error));
      }
    },
  };
}
