import type { Pipeline } from '../api/types.js';

const WIDTH = 156;
const HEIGHT = 46;
const GAP_X = 56;
const GAP_Y = 16;

const FILL: Readonly<Record<string, string>> = {
  SUCCEEDED: '#dafbe1',
  RUNNING: '#fff3cd',
  FAILED: '#ffebe9',
  UPSTREAM_FAILED: '#ffebe9',
  CANCELLED: '#eaeef2',
  SKIPPED: '#eaeef2',
  PENDING: '#ffffff',
};
const STROKE: Readonly<Record<string, string>> = {
  SUCCEEDED: '#1a7f37',
  RUNNING: '#8a5a00',
  FAILED: '#b42318',
  UPSTREAM_FAILED: '#b42318',
};

/**
 * A pipeline's blocks as a graph, left to right: each block in the column after its furthest upstream
 * block, its edges from what it reads. With `statuses` (a run), each block is coloured by its status.
 */
export function Dag({
  pipeline,
  statuses,
}: {
  pipeline: Pipeline;
  statuses?: Readonly<Record<string, string>>;
}) {
  const level = new Map<string, number>();
  for (const block of pipeline.blocks) {
    // Blocks come in execution order: every upstream block is placed already.
    level.set(block.name, Math.max(-1, ...block.upstream.map((up) => level.get(up) ?? 0)) + 1);
  }
  const columns: string[][] = [];
  for (const block of pipeline.blocks) {
    const column = level.get(block.name)!;
    columns[column] = [...(columns[column] ?? []), block.name];
  }
  const tallest = Math.max(...columns.map((column) => column.length));
  const height = tallest * (HEIGHT + GAP_Y) - GAP_Y + 8;
  const width = columns.length * (WIDTH + GAP_X) - GAP_X + 8;
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((column, c) => {
    const offset = ((tallest - column.length) * (HEIGHT + GAP_Y)) / 2;
    column.forEach((name, r) => {
      position.set(name, { x: 4 + c * (WIDTH + GAP_X), y: 4 + offset + r * (HEIGHT + GAP_Y) });
    });
  });
  const describe = pipeline.blocks
    .map(
      (block) =>
        `${block.name}${statuses?.[block.name] ? ` ${statuses[block.name]}` : ''}${block.upstream.length ? ` after ${block.upstream.join(', ')}` : ''}`,
    )
    .join('; ');
  return (
    <div class="table-scroll">
      <svg
        class="dag"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={`The blocks of ${pipeline.name}: ${describe}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#57606a" />
          </marker>
        </defs>
        {pipeline.blocks.flatMap((block) =>
          block.upstream.map((up) => {
            const from = position.get(up)!;
            const to = position.get(block.name)!;
            const x1 = from.x + WIDTH;
            const y1 = from.y + HEIGHT / 2;
            const x2 = to.x;
            const y2 = to.y + HEIGHT / 2;
            const bend = (x2 - x1) / 2;
            return (
              <path
                key={`${up}->${block.name}`}
                d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2 - 2},${y2}`}
                fill="none"
                stroke="#8c959f"
                stroke-width="1.5"
                marker-end="url(#arrow)"
              />
            );
          }),
        )}
        {pipeline.blocks.map((block) => {
          const { x, y } = position.get(block.name)!;
          const status = statuses?.[block.name];
          return (
            <g key={block.name} data-block={block.name} data-status={status}>
              <rect
                x={x}
                y={y}
                width={WIDTH}
                height={HEIGHT}
                rx="6"
                fill={status ? (FILL[status] ?? '#ffffff') : '#ffffff'}
                stroke={status ? (STROKE[status] ?? '#8c959f') : '#0b5cad'}
                stroke-width="1.5"
              />
              <text x={x + 10} y={y + 19} font-weight="600">
                {block.name}
              </text>
              <text x={x + 10} y={y + 36} fill="#57606a">
                {status ? status.toLowerCase().replace('_', ' ') : block.kind}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
