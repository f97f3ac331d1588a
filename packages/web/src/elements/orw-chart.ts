import { css, html, LitElement, nothing, type PropertyValues, svg, unsafeCSS } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import type uPlot from "uplot"
import uPlotStyles from "uplot/dist/uPlot.min.css?inline"
import { type ChartData, PALETTE, stackFromTop } from "../chart-data.js"
import { count } from "../format.js"
import { shared } from "../styles.js"

/** uPlot, loaded with the first chart drawn: its own chunk, off the first page's critical path. */
let library: Promise<typeof uPlot> | undefined
const loadUPlot = () => {
  library ??= import("uplot").then((module) => module.default)
  return library
}

const HEIGHT = 220
const DAY_S = 86_400

const seconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000

/**
 * A chart drawn by uPlot on a canvas: bars (stacked, e.g. spend per day and model) or lines (e.g. tokens in
 * and out). Hovering shows the exact figures of that day; the legend's buttons hide and show series (the
 * stack is redrawn without them); a visually hidden table holds every figure for screen readers.
 */
@customElement("orw-chart")
export class OrwChart extends LitElement {
  static override styles = [
    shared,
    unsafeCSS(uPlotStyles),
    css`
      :host {
        display: block;
        min-width: 0;
      }
      .plot {
        min-height: ${HEIGHT}px;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.5rem;
        margin: 0.5rem 0 0;
        padding: 0;
        list-style: none;
      }
      .legend button {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
        padding: 0.2rem 0.5rem;
        font-size: 0.85rem;
        max-width: 100%;
        overflow-wrap: anywhere;
        text-align: left;
      }
      .legend button[aria-pressed="false"] {
        opacity: 0.45;
        text-decoration: line-through;
      }
      .readout {
        min-height: 1.5em;
        margin: 0.25rem 0 0;
        font-size: 0.85rem;
        font-variant-numeric: tabular-nums;
        overflow-wrap: anywhere;
      }
      .u-axis {
        color: var(--muted);
      }
      /* Read, never seen: squeezed to nothing, so it widens no narrow screen (a table ignores its box's width). */
      .sr-only table {
        table-layout: fixed;
        width: 1px;
      }
      .sr-only :is(th, td) {
        padding: 0;
      }
    `
  ]

  /** The periods and series; the chart is redrawn when it changes. */
  @property({ attribute: false }) accessor data: ChartData = { x: [], series: [] }
  /** `bars` (one column per period) or `lines`. */
  @property() accessor kind: "bars" | "lines" = "bars"
  /** Bars stacked one series over the other (their total is the column). */
  @property({ type: Boolean }) accessor stacked = false
  /** The accessible name of the chart and the caption of its table. */
  @property() accessor label = ""
  /** How a value reads on the axis and in the table. */
  @property({ attribute: false }) accessor format: (value: number) => string = count
  /** How a value reads in the hover read-out: the exact figure. Defaults to `format`. */
  @property({ attribute: false }) accessor exact: ((value: number) => string) | undefined

  @state() accessor _shown: ReadonlyArray<boolean> = []
  /** The period under the pointer, if any. */
  @state() accessor _cursor: number | null = null

  private _plot: uPlot | undefined
  private _width = 0

  private readonly _resize = new ResizeObserver(([entry]) => {
    const width = Math.floor(entry?.contentRect.width ?? 0)
    if (width === this._width || width === 0) return
    this._width = width
    this._plot?.setSize({ width, height: HEIGHT })
  })

  override connectedCallback(): void {
    super.connectedCallback()
    this._resize.observe(this)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._resize.disconnect()
    this._plot?.destroy()
    this._plot = undefined
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("data")) {
      this._shown = this.data.series.map(() => true)
      this._cursor = null
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("data") || changed.has("kind") || changed.has("stacked")) void this._draw()
  }

  private _values(): uPlot.AlignedData {
    const raw = this.data.series.map((s) => s.values)
    const y = this.stacked ? stackFromTop(raw, this._shown) : raw.map((values) => [...values])
    return [this.data.x.map(seconds), ...y]
  }

  private async _draw(): Promise<void> {
    const UPlot = await loadUPlot()
    const target = this.renderRoot.querySelector<HTMLElement>(".plot")
    this._plot?.destroy()
    this._plot = undefined
    if (target === null || this.data.x.length === 0) return
    const style = getComputedStyle(this)
    const muted = style.getPropertyValue("--muted").trim() || "#5d6478"
    const line = style.getPropertyValue("--line").trim() || "#e3e6ef"
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } }
    const bars = UPlot.paths.bars?.({ size: [0.7, 40], gap: 1 })
    const width = this._width || Math.floor(this.getBoundingClientRect().width) || 320
    this._plot = new UPlot(
      {
        width,
        height: HEIGHT,
        tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: this.kind === "lines" } },
        scales: { x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] } },
        axes: [
          { ...axis, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) },
          { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => this.format(t)) }
        ],
        series: [
          {},
          ...this.data.series.map((s, i) => {
            const colour = PALETTE[i % PALETTE.length] ?? PALETTE[0]
            return this.kind === "bars"
              ? { label: s.label, stroke: colour, fill: colour, width: 0, ...(bars ? { paths: bars } : {}) }
              : { label: s.label, stroke: colour, width: 2 }
          })
        ],
        hooks: {
          setCursor: [
            (u) => {
              this._cursor = u.cursor.idx ?? null
            }
          ]
        }
      },
      this._values(),
      target
    )
    this._plot.root.setAttribute("aria-hidden", "true")
  }

  private _toggle(index: number): void {
    const shown = this._shown.map((on, i) => (i === index ? !on : on))
    // Keep one series at least: an empty chart helps no one.
    if (!shown.some(Boolean)) return
    this._shown = shown
    if (this._plot === undefined) return
    this._plot.setSeries(index + 1, { show: shown[index] ?? true }, false)
    if (this.stacked) this._plot.setData(this._values())
  }

  private _readout() {
    const i = this._cursor
    if (i === null || this.data.x[i] === undefined)
      return html`<p class="readout muted">Point at a day to read its figures.</p>`
    const exact = this.exact ?? this.format
    const shown = this.data.series.filter((_, s) => this._shown[s] !== false)
    const parts = shown.map((s) => `${s.label} ${exact(s.values[i] ?? 0)}`)
    return html`<p class="readout"><strong>${this.data.x[i]}</strong>: ${parts.join(" · ")}</p>`
  }

  private _table() {
    const series = this.data.series
    // The wrapper hides it: a table ignores its own width, and would widen a narrow page.
    return html`<div class="sr-only"><table>
      <caption>${this.label}</caption>
      <thead>
        <tr>
          <th scope="col">Date</th>
          ${series.map((s) => html`<th scope="col" class="num">${s.label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${this.data.x.map(
          (day, i) => html`<tr>
            <th scope="row">${day}</th>
            ${series.map((s) => html`<td class="num">${this.format(s.values[i] ?? 0)}</td>`)}
          </tr>`
        )}
      </tbody>
    </table></div>`
  }

  override render() {
    if (this.data.x.length === 0) return html`<p class="muted">No data yet.</p>`
    return html`
      <div class="plot" role="img" aria-label="${this.label} (the figures are in the table that follows)"></div>
      ${this._readout()}
      ${
        this.data.series.length > 1
          ? html`<ul class="legend" aria-label="Series of ${this.label}">
              ${this.data.series.map(
                (s, i) => html`<li>
                  <button type="button" aria-pressed=${this._shown[i] === false ? "false" : "true"} @click=${() => this._toggle(i)}>
                    <svg width="12" height="12" aria-hidden="true">${svg`<rect width="12" height="12" rx="2" fill=${PALETTE[i % PALETTE.length] ?? ""}></rect>`}</svg>
                    ${s.label}
                  </button>
                </li>`
              )}
            </ul>`
          : nothing
      }
      ${this._table()}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-chart": OrwChart
  }
}
