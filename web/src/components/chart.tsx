import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Colours of the series, distinguishable on white and for the common colour blindnesses (Okabe-Ito). */
export const PALETTE = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#e69f00',
  '#56b4e9',
  '#000000',
  '#f0e442',
];

export interface Series {
  readonly label: string;
  /** One value per x (null: none at that x). */
  readonly values: readonly (number | null)[];
  readonly color?: string;
  readonly dashed?: boolean;
  /** Points only, no line (a scatter). */
  readonly pointsOnly?: boolean;
  /** A point at every value besides the line (sparse series, where a lone value has no line to draw). */
  readonly points?: boolean;
}

export interface ChartProps {
  /** What the chart shows, for screen readers (the chart is an image to them). */
  readonly label: string;
  /** Increasing x values, shared by every series. */
  readonly x: readonly number[];
  readonly series: readonly Series[];
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly height?: number;
  /** x is a time in seconds since the epoch. */
  readonly time?: boolean;
  readonly xRange?: readonly [number, number];
  readonly yRange?: readonly [number, number];
  /** x takes whole values only (steps): no ticks between them. */
  readonly integerX?: boolean;
  /** A square plot area (ROC, calibration). */
  readonly square?: boolean;
}

/** Tick spacings for whole-number axes. */
const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

/**
 * A line or scatter chart drawn by uPlot on a canvas, as wide as its container; the legend lists the
 * series (with the values under the cursor). Redrawn when `x`, `series` or the ranges change identity.
 */
export function Chart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const width = () => Math.max(200, Math.min(element.clientWidth, props.square ? 480 : 4000));
    const height = props.height ?? (props.square ? Math.min(width(), 420) : 240);
    const options: uPlot.Options = {
      width: width(),
      height,
      scales: {
        x: {
          time: props.time ?? false,
          ...(props.xRange ? { range: [props.xRange[0], props.xRange[1]] } : {}),
        },
        y: props.yRange ? { range: [props.yRange[0], props.yRange[1]] } : {},
      },
      axes: [
        {
          label: props.xLabel ?? '',
          labelSize: props.xLabel ? 20 : 0,
          ...(props.integerX ? { incrs: INTEGER_STEPS } : {}),
        },
        { label: props.yLabel ?? '', labelSize: props.yLabel ? 20 : 0 },
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: props.xLabel ?? 'x' },
        ...props.series.map((series, i) => ({
          label: series.label,
          stroke: series.color ?? PALETTE[i % PALETTE.length]!,
          width: 2,
          spanGaps: true,
          ...(series.dashed ? { dash: [6, 4] } : {}),
          ...(series.points ? { points: { show: true, size: 5 } } : {}),
          ...(series.pointsOnly ? { paths: () => null, points: { show: true, size: 7 } } : {}),
        })),
      ],
    };
    const data = [props.x, ...props.series.map((series) => series.values)] as unknown as uPlot.AlignedData;
    const plot = new uPlot(options, data, element);
    const observer = new ResizeObserver(() => {
      const next = width();
      if (Math.abs(next - plot.width) > 2) plot.setSize({ width: next, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
    // Callers keep x and series stable (useMemo) so that a re-render does not redraw.
  }, [props.x, props.series, props.label, props.height, props.xRange, props.yRange]);
  return <div class="chart" ref={host} role="img" aria-label={props.label} />;
}

/**
 * Aligns series given as (x, y) points onto one increasing x axis (null where a series has no point), as
 * `Chart` takes them.
 */
export function alignSeries(points: readonly (readonly (readonly [number, number])[])[]): {
  x: number[];
  values: (number | null)[][];
} {
  const xs = [...new Set(points.flatMap((series) => series.map(([x]) => x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const values = points.map((series) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    for (const [x, y] of series) column[index.get(x)!] = y;
    return column;
  });
  return { x: xs, values };
}
