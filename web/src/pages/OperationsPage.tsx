import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import { api, call } from '../api/client';
import { Chart, type Series } from '../components/Chart';
import { type OpsPoint, type OpsSummary, pointBetween } from '../lib/ops';
import { describeError } from '../lib/words';

/** Two minutes of one-second points. */
const WINDOW = 120;
const POLL_MS = 1000;
const COLOURS = [
  '#1d4ed8',
  '#166534',
  '#b91c1c',
  '#7c3aed',
  '#b45309',
  '#0f766e',
  '#be185d',
  '#4b5563',
];

/** Polls the admins' summary every second and keeps the last WINDOW points. */
function useOpsPoints() {
  const [points, setPoints] = useState<OpsPoint[]>([]);
  const [latest, setLatest] = useState<OpsSummary>();
  const [error, setError] = useState<unknown>();
  const previous = useRef<OpsSummary | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const next = await call(api.GET('/api/admin/metrics'));
        if (!live) {
          return;
        }
        setError(undefined);
        setLatest(next);
        if (previous.current) {
          const point = pointBetween(previous.current, next);
          setPoints((p) => [...p, point].slice(-WINDOW));
        }
        previous.current = next;
      } catch (e) {
        if (live) {
          setError(e);
        }
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  return { points, latest, error };
}

const formatMs = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '–' : `${ms} ms`;
const formatRate = (point: OpsPoint | undefined) =>
  point ? point.requestsPerSecond.toFixed(0) : '–';

function WriterStatus({ latest }: { latest: OpsSummary | undefined }) {
  const { t } = useTranslation();
  if (latest === undefined) {
    return <p>{t('app.loading')}</p>;
  }
  return latest.writerHealthy ? (
    <p data-testid="writer" className="ok">
      {t('ops.writerHealthy', { seconds: latest.oldestPendingSeconds.toFixed(1) })}
    </p>
  ) : (
    <p data-testid="writer" className="problem">
      {t('ops.writerStalled')} {latest.writerProblem}
    </p>
  );
}

export function OperationsPage() {
  const { t } = useTranslation();
  const { points, latest, error } = useOpsPoints();
  const codes = useMemo(
    () => [...new Set(points.flatMap((p) => Object.keys(p.outcomesPerSecond)))].sort(),
    [points],
  );
  const x = points.map((p) => p.t);
  const last = points.at(-1);
  const outcomeSeries: Series[] = codes.map((code, i) => ({
    label: code,
    colour: COLOURS[i % COLOURS.length],
  }));
  return (
    <section aria-labelledby="ops-title" className="ops">
      <h1 id="ops-title">{t('ops.title')}</h1>
      <p className="hint">{t('ops.hint')}</p>
      {error !== undefined && (
        <p className="problem" role="alert">
          {describeError(t, error)}
        </p>
      )}
      <div className="ops-grid">
        <figure>
          <figcaption>
            {t('ops.requests')}: <strong data-testid="rps">{formatRate(last)}</strong>
          </figcaption>
          <Chart
            label={t('ops.requests')}
            unit="/s"
            series={[{ label: t('ops.requests'), colour: COLOURS[0] }]}
            data={[x, points.map((p) => p.requestsPerSecond)]}
          />
        </figure>
        <figure>
          <figcaption>
            {t('ops.p99')}: <strong>{formatMs(last?.p99Ms)}</strong>
          </figcaption>
          <Chart
            label={t('ops.p99')}
            unit="ms"
            series={[{ label: 'p99', colour: COLOURS[2] }]}
            data={[x, points.map((p) => p.p99Ms)]}
          />
        </figure>
        <figure>
          <figcaption>{t('ops.outcomes')}</figcaption>
          <Chart
            label={t('ops.outcomes')}
            unit="/s"
            series={outcomeSeries}
            data={[x, ...codes.map((c) => points.map((p) => p.outcomesPerSecond[c] ?? 0))]}
          />
        </figure>
        <figure>
          <figcaption>
            {t('ops.backlog')}: <strong>{latest?.backlog ?? '–'}</strong>
          </figcaption>
          <Chart
            label={t('ops.backlog')}
            unit=""
            series={[{ label: t('ops.backlog'), colour: COLOURS[3] }]}
            data={[x, points.map((p) => p.backlog)]}
          />
        </figure>
      </div>
      <h2>{t('ops.writer')}</h2>
      <WriterStatus latest={latest} />
      <h2>{t('ops.stock')}</h2>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('ops.goods')}</th>
              <th scope="col">{t('goods.remaining')}</th>
            </tr>
          </thead>
          <tbody>
            {(latest?.stock ?? []).map((s) => (
              <tr key={s.goodsId}>
                <td>#{s.goodsId}</td>
                <td>{s.remaining}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
