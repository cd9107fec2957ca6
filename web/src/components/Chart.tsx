import 'uplot/dist/uPlot.min.css';

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Series {
  label: string;
  colour: string;
}

/**
 * A uPlot time chart of `data` ([x seconds, ...one array per series]), resized with its box.
 * The chart is drawn on a canvas; `label` names it for assistive technology, and the page shows
 * the latest values as text beside it.
 */
export function Chart({
  label,
  series,
  data,
  unit,
}: {
  label: string;
  series: Series[];
  data: (number | null)[][];
  unit: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');
  useEffect(() => {
    const element = box.current;
    if (!element) {
      return undefined;
    }
    const chart = new uPlot(
      {
        width: element.clientWidth || 300,
        height: 180,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 2,
            value: (_: uPlot, v: number | null) => (v === null ? '–' : `${v.toFixed(1)} ${unit}`),
          })),
        ],
        axes: [{}, { size: 60 }],
        legend: { show: true },
      },
      data as uPlot.AlignedData,
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: element.clientWidth, height: 180 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // A new set of series makes a new chart; new data only redraws (below).
  }, [shape, unit]);
  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);
  return <div ref={box} role="img" aria-label={label} className="chart" />;
}
