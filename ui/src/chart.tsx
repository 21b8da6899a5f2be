import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
  dash?: number[];
}

/** A uPlot time-series chart: x in seconds since the epoch, one line per series. */
export function Chart(props: { title: string; x: number[]; series: Series[]; unit: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');
  useEffect(() => {
    if (box.current === null) return;
    const width = Math.max(320, box.current.clientWidth || 640);
    const options: uPlot.Options = {
      title: props.title,
      width,
      height: props.height ?? 220,
      // From 0, and 0–1 while everything is 0 (uPlot's own range would be 0–100).
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { label: props.unit, size: 60 }],
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, ...(s.dash ? { dash: s.dash } : {}), spanGaps: false }))],
    };
    plot.current = new uPlot(options, [props.x, ...props.series.map((s) => s.values)], box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape, props.title]);
  useEffect(() => {
    plot.current?.setData([props.x, ...props.series.map((s) => s.values)]);
  }, [props.x, props.series]);
  return <div class="chart" ref={box} />;
}
