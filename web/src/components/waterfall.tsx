import { useState } from 'preact/hooks';
import type { Explanation } from '../api/types.js';

/** How many features the waterfall shows one by one before it sums the rest (all, on request). */
const SHOWN = 12;

const signed = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(3)}`;

/**
 * The exact explanation of one prediction as a waterfall: from the model's bias, each feature's
 * contribution (log-odds) moves the sum up (towards Parkinson's disease) or down, largest first, to the
 * margin, whose logistic is the model's own probability (the one shown is after its calibration).
 */
export function Waterfall({
  explanation,
  values,
}: {
  explanation: Explanation;
  values: Readonly<Record<string, string>>;
}) {
  const [all, setAll] = useState(false);
  const entries = Object.entries(explanation.contributions).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const shown = all ? entries : entries.slice(0, SHOWN);
  const rest = all ? [] : entries.slice(SHOWN);
  const restSum = rest.reduce((sum, [, value]) => sum + value, 0);
  const margin = explanation.bias + entries.reduce((sum, [, value]) => sum + value, 0);
  const steps: { label: string; amount: number; contribution: number | undefined }[] = [
    ...shown.map(([feature, value]) => ({
      label: `${feature} = ${values[feature] ?? '?'}`,
      amount: value,
      contribution: value,
    })),
    ...(rest.length > 0
      ? [{ label: `${rest.length} other features`, amount: restSum, contribution: undefined }]
      : []),
  ];
  // The running sum before and after each step, to place its bar.
  let running = explanation.bias;
  const bars = steps.map((step) => {
    const from = running;
    running += step.amount;
    return { ...step, from, to: running };
  });
  const ends = [0, explanation.bias, margin, ...bars.flatMap((bar) => [bar.from, bar.to])];
  const low = Math.min(...ends);
  const high = Math.max(...ends);
  const span = high - low || 1;
  const at = (value: number) => ((value - low) / span) * 100;
  const place = (a: number, b: number) => ({
    left: `${at(Math.min(a, b))}%`,
    width: `${Math.max(0.4, at(Math.max(a, b)) - at(Math.min(a, b)))}%`,
  });
  const zero = { left: `${at(0)}%` };
  return (
    <div>
      <table class="waterfall" data-bias={explanation.bias} data-margin={margin}>
        <caption class="visually-hidden">
          Contributions to the prediction, in log-odds, from the bias to the margin
        </caption>
        <colgroup>
          <col class="waterfall-label" />
          <col />
          <col class="waterfall-amount" />
        </colgroup>
        <tbody>
          <tr>
            <th scope="row">bias (the model's base)</th>
            <td aria-hidden="true">
              <span class="track">
                <span class="axis-line" style={zero} />
                <span class="bar total" style={place(0, explanation.bias)} />
              </span>
            </td>
            <td class="amount">{signed(explanation.bias)}</td>
          </tr>
          {bars.map((bar) => (
            <tr
              key={bar.label}
              data-contribution={bar.contribution}
              data-others={bar.contribution === undefined ? bar.amount : undefined}
            >
              <th scope="row">{bar.label}</th>
              <td aria-hidden="true">
                <span class="track">
                  <span class="axis-line" style={zero} />
                  <span class={`bar ${bar.amount >= 0 ? 'up' : 'down'}`} style={place(bar.from, bar.to)} />
                </span>
              </td>
              <td class="amount">{signed(bar.amount)}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">
              <strong>margin</strong> (bias + contributions)
            </th>
            <td aria-hidden="true">
              <span class="track">
                <span class="axis-line" style={zero} />
                <span class="bar total" style={place(0, margin)} />
              </span>
            </td>
            <td class="amount">
              <strong class="margin">{signed(margin)}</strong>
            </td>
          </tr>
        </tbody>
      </table>
      <p class="hint">
        Log-odds: orange pushes towards Parkinson's disease, blue away; the model's own probability is 1 / (1
        + e<sup>−margin</sup>), which its calibration maps to the one shown.{' '}
        {entries.length > SHOWN ? (
          <button type="button" onClick={() => setAll(!all)}>
            {all ? `Show the ${SHOWN} largest` : `Show all ${entries.length} features`}
          </button>
        ) : null}
      </p>
    </div>
  );
}
