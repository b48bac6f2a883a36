import type { ComponentChildren } from 'preact';
import { artifactUrl } from '../api/mlflow.js';
import type { CardBlock, ModelCard, Run } from '../api/types.js';
import { Chart } from './chart.js';

/** Text with `code` spans, as the card writes them. */
function Inline({ text }: { text: string }) {
  const parts: ComponentChildren[] = text
    .split('`')
    .map((part, k) => (k % 2 === 1 ? <code key={k}>{part}</code> : part));
  return <>{parts}</>;
}

function Block({ block }: { block: CardBlock }) {
  if (block.kind === 'chart') {
    return (
      <figure class="card-chart">
        <Chart
          label={block.caption}
          x={block.x}
          series={block.series.map((series) => ({
            label: series.label,
            values: series.values,
            ...(series.dashed ? { dashed: true } : {}),
            ...(series.points ? { pointsOnly: true } : {}),
          }))}
          xLabel={block.xLabel}
          yLabel={block.yLabel}
          xRange={block.xRange}
          yRange={block.yRange}
          height={260}
        />
        <figcaption class="hint">{block.caption}</figcaption>
      </figure>
    );
  }
  if (block.kind === 'paragraph') {
    return (
      <p>
        <Inline text={block.text} />
      </p>
    );
  }
  if (block.kind === 'list') {
    return (
      <ul>
        {block.items.map((item) => (
          <li key={item}>
            <Inline text={item} />
          </li>
        ))}
      </ul>
    );
  }
  return (
    <div class="table-scroll">
      <table>
        <caption>
          <Inline text={block.caption} />
        </caption>
        <thead>
          <tr>
            {block.columns.map((column, k) => (
              <th scope="col" key={`${k}:${column}`}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {block.rows.map((row, r) => (
            <tr key={`${r}:${row[0]}`}>
              {row.map((cell, k) => (
                <td key={`${k}:${cell}`}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A model card (src/ml/report/model-card.ts) from its structure, with links to the Markdown and HTML the
 * run logged beside it.
 */
export function ModelCardView({ card, run }: { card: ModelCard; run: Run }) {
  return (
    <article class="card model-card" aria-labelledby="model-card-title">
      <h2 id="model-card-title">{card.title}</h2>
      <p class="hint">
        Made when the model was trained ({card.generated_at}); after TRIPOD+AI's reporting items. Download as{' '}
        <a href={artifactUrl(run, 'report/model-card.md')} download="model-card.md">
          Markdown
        </a>{' '}
        or{' '}
        <a href={artifactUrl(run, 'report/model-card.html')} download="model-card.html">
          HTML
        </a>
        , or write it with <code>onset model card</code>.
      </p>
      {card.sections.map((section) => (
        <section key={section.id} id={`card-${section.id}`} aria-labelledby={`card-${section.id}-title`}>
          <h3 id={`card-${section.id}-title`}>{section.title}</h3>
          {section.blocks.map((block, k) => (
            <Block key={`${section.id}:${k}`} block={block} />
          ))}
        </section>
      ))}
    </article>
  );
}
