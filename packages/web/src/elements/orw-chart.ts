import { css, html, LitElement, nothing, svg } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import { usd } from "../format.js"

/** One point of a chart. */
export interface ChartDatum {
  readonly label: string
  readonly value: number
  /** Drawn in the warning colour (e.g. a key near its limit). */
  readonly highlight?: boolean
}

const COLUMN_HEIGHT = 160
const AXIS = 64
const ROW = 28

/** A top for the axis that reads well: 1, 2 or 5 times a power of ten. */
const niceMax = (max: number): number => {
  if (max <= 0) return 1
  const step = 10 ** Math.floor(Math.log10(max))
  return ([1, 2, 2.5, 5, 10].find((m) => m * step >= max) ?? 10) * step
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/**
 * A small SVG chart, no library: `columns` (one column per label, e.g. per day), `line` (the
 * same as a line) or `bars` (horizontal, labelled, e.g. per key or model). Values carry a
 * `<title>` for hover; pages show the same figures in a table for screen readers.
 */
@customElement("orw-chart")
export class OrwChart extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    svg {
      width: 100%;
      height: auto;
      display: block;
      font: 12px system-ui, sans-serif;
    }
    .axis {
      fill: var(--muted);
    }
    .grid {
      stroke: var(--line);
    }
    .mark {
      fill: var(--accent);
    }
    .mark.hot {
      fill: var(--warn);
    }
    .line {
      fill: none;
      stroke: var(--accent);
      stroke-width: 2.5;
    }
    .label {
      fill: var(--fg);
    }
    p {
      color: var(--muted);
    }
  `

  /** The points, in display order. */
  @property({ attribute: false }) accessor data: ReadonlyArray<ChartDatum> = []
  /** `columns` | `line` (over a sequence, e.g. days) or `bars` (labelled rows). */
  @property() accessor variant: "columns" | "line" | "bars" = "columns"
  /** The accessible name of the chart. */
  @property() accessor label = ""
  /** How values read; US dollars by default. */
  @property({ attribute: false }) accessor format: (value: number) => string = usd

  /** The drawing's width in CSS pixels: one SVG unit is one pixel, so text stays the page's size. */
  @state() accessor _width = 640

  private readonly _resize = new ResizeObserver(([entry]) => {
    const width = Math.max(280, Math.round(entry?.contentRect.width ?? 0))
    if (width !== this._width) this._width = width
  })

  override connectedCallback(): void {
    super.connectedCallback()
    this._resize.observe(this)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._resize.disconnect()
  }

  private _axis(max: number) {
    return [0, 0.5, 1].map((share) => {
      const y = COLUMN_HEIGHT - share * COLUMN_HEIGHT + 10
      return svg`<line class="grid" x1=${AXIS} x2=${this._width} y1=${y} y2=${y}></line>
        <text class="axis" x=${AXIS - 6} y=${y + 4} text-anchor="end">${this.format(max * share)}</text>`
    })
  }

  private _sequence() {
    const max = niceMax(Math.max(...this.data.map((d) => d.value), 0))
    const slot = (this._width - AXIS) / Math.max(this.data.length, 1)
    const x = (i: number) => AXIS + slot * (i + 0.5)
    const y = (value: number) => COLUMN_HEIGHT + 10 - (value / max) * COLUMN_HEIGHT
    const every = Math.max(1, Math.ceil(this.data.length / Math.floor(this._width / 70)))
    const ticks = this.data.map((d, i) =>
      i % every === 0
        ? svg`<text class="axis" x=${x(i)} y=${COLUMN_HEIGHT + 28} text-anchor="middle">${d.label.slice(5)}</text>`
        : nothing
    )
    const tip = (d: ChartDatum) => svg`<title>${d.label}: ${this.format(d.value)}</title>`
    const marks =
      this.variant === "line"
        ? svg`<polyline class="line" points=${this.data.map((d, i) => `${x(i)},${y(d.value)}`).join(" ")}></polyline>
          ${this.data.map((d, i) => svg`<circle class="mark" cx=${x(i)} cy=${y(d.value)} r="3">${tip(d)}</circle>`)}`
        : this.data.map((d, i) => {
            const height = Math.max((d.value / max) * COLUMN_HEIGHT, d.value > 0 ? 1 : 0)
            return svg`<rect class="mark ${d.highlight === true ? "hot" : ""}" x=${x(i) - slot * 0.35}
              y=${COLUMN_HEIGHT + 10 - height} width=${slot * 0.7} height=${height} rx="2">${tip(d)}</rect>`
          })
    return html`<svg viewBox="0 0 ${this._width} ${COLUMN_HEIGHT + 36}" role="img" aria-label=${this.label}>
      ${this._axis(max)} ${marks} ${ticks}
    </svg>`
  }

  private _bars() {
    const max = Math.max(...this.data.map((d) => d.value), 0) || 1
    const label = Math.min(200, Math.round(this._width * 0.38))
    const room = this._width - label - 80
    const height = Math.max(this.data.length, 1) * ROW
    return html`<svg viewBox="0 0 ${this._width} ${height}" role="img" aria-label=${this.label}>
      ${this.data.map((d, i) => {
        const width = Math.max((d.value / max) * room, d.value > 0 ? 2 : 0)
        const y = i * ROW
        const hot = d.highlight === true ? "hot" : ""
        return svg`<text class="label" x="0" y=${y + 18}>
            ${truncate(d.label, Math.floor(label / 7.5))}<title>${d.label}</title>
          </text>
          <rect class="mark ${hot}" x=${label} y=${y + 6} width=${width} height=${ROW - 12} rx="3">
            <title>${d.label}: ${this.format(d.value)}</title>
          </rect>
          <text class="axis" x=${label + width + 8} y=${y + 18}>${this.format(d.value)}</text>`
      })}
    </svg>`
  }

  override render() {
    if (this.data.length === 0) return html`<p>No data yet.</p>`
    return this.variant === "bars" ? this._bars() : this._sequence()
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-chart": OrwChart
  }
}
