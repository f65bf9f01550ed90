import { html } from "htm/preact";
import type { VNode } from "preact";

/**
 * A bar chart as inline SVG, rendered on the server (no script). The numbers are also in a
 * visually hidden table, so a screen reader gets the data rather than a picture.
 */
export function barChart(options: {
  id: string;
  title: string;
  unit: string;
  labels: string[];
  values: (number | null)[];
  emptyText: string;
}): VNode {
  const width = 560;
  const height = 150;
  const pad = { left: 40, right: 8, top: 10, bottom: 22 };
  const max = Math.max(1, ...options.values.map((v) => v ?? 0));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const step = plotW / Math.max(1, options.values.length);
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const hasData = options.values.some((v) => (v ?? 0) > 0);
  const rounded = max >= 10 ? Math.round(max) : Math.round(max * 10) / 10;
  return html`
    <figure class="chart" data-chart=${options.id}>
      <figcaption>${options.title}</figcaption>
      <svg viewBox=${`0 0 ${width} ${height}`} width=${width} height=${height} role="img"
        aria-label=${options.title}>
        <line class="axis" x1=${pad.left} y1=${pad.top + plotH} x2=${width - pad.right}
          y2=${pad.top + plotH} />
        <line class="grid" x1=${pad.left} y1=${pad.top} x2=${width - pad.right} y2=${pad.top} />
        <text class="tick" x=${pad.left - 4} y=${pad.top + 4} text-anchor="end">${rounded}</text>
        <text class="tick" x=${pad.left - 4} y=${pad.top + plotH} text-anchor="end">0</text>
        ${options.values.map((v, i) =>
          v === null || v === 0 ? null : html`
            <rect class="bar" x=${(pad.left + i * step + 1).toFixed(1)} y=${y(v).toFixed(1)}
              width=${Math.max(1, step - 2).toFixed(1)} height=${(pad.top + plotH - y(v)).toFixed(
                1,
              )}>
              <title>${options.labels[i]}: ${v} ${options.unit}</title>
            </rect>
          `
        )}
        ${options.labels.map((l, i) =>
          i % 4 === 0
            ? html`
              <text class="tick" x=${(pad.left + i * step + step / 2).toFixed(1)}
                y=${height - 6} text-anchor="middle">${l}</text>
            `
            : null
        )}
        ${!hasData &&
          html`<text class="empty" x=${width / 2} y=${
            height / 2
          } text-anchor="middle">${options.emptyText}</text>`}
      </svg>
      <table class="visually-hidden">
        <caption>${options.title} (${options.unit})</caption>
        <tbody>
          ${options.labels.map((l, i) =>
            html`
              <tr>
                <th scope="row">${l}</th>
                <td>${options.values[i] ?? ""}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
    </figure>
  `;
}

/** Buckets of the last 24 hours ending at `now`: labels "HH:00" and the bucket of a timestamp. */
export function hourlyBuckets(now: Date): { labels: string[]; bucket(iso: string): number } {
  const end = Math.floor(now.getTime() / 3_600_000) + 1; // the current hour is the last bucket
  const labels = Array.from({ length: 24 }, (_, i) => {
    const hour = new Date((end - 24 + i) * 3_600_000).getUTCHours();
    return `${String(hour).padStart(2, "0")}:00`;
  });
  return {
    labels,
    bucket(iso) {
      const h = Math.floor(Date.parse(iso) / 3_600_000);
      const i = h - (end - 24);
      return i >= 0 && i < 24 ? i : -1;
    },
  };
}
