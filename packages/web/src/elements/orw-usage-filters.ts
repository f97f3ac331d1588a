import { isAnsweredRange, isCalendarDay, MAX_RANGE_DAYS } from "@orw/domain/Plain"
import type { Granularity, SplitBy } from "@orw/domain/Usage/Explorer"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import { filterControls, shared } from "../styles.js"
import { PRESETS, type RangePreset, resolveRange, type UsageFilters, utcToday } from "../usage-filters.js"

/** Fired (bubbling) with the new filters in `detail` whenever the user changes one. */
export const FILTERS_CHANGE_EVENT = "orw-filters-change"

/** A key the filter can pick. */
export interface KeyChoice {
  readonly id: string
  readonly name: string
}

/**
 * The explorer's controls: a range (presets or two dates), keys and models (several of each, none meaning
 * all), the period of a row and whether rows are per model or per key. It holds no state of its own beyond
 * the custom dates being typed: every change goes out as {@link FILTERS_CHANGE_EVENT}, back to page 1.
 */
@customElement("orw-usage-filters")
export class OrwUsageFilters extends LitElement {
  static override styles = [
    shared,
    filterControls,
    css`
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem 1.25rem;
        align-items: end;
      }
      fieldset {
        border: 0;
        margin: 0;
        padding: 0;
        min-width: 0;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.25rem;
      }
      .picks {
        flex: 1 1 14rem;
      }
      .choices {
        display: grid;
        gap: 0.25rem;
        max-height: 9rem;
        overflow: auto;
        padding: 0.25rem 0;
      }
      .choices label {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        font-weight: 400;
        overflow-wrap: anywhere;
      }
      .dates {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
    `
  ]

  @property({ attribute: false }) accessor filters: UsageFilters | undefined
  @property({ attribute: false }) accessor keys: ReadonlyArray<KeyChoice> = []
  @property({ attribute: false }) accessor models: ReadonlyArray<string> = []

  /** Custom dates being typed, sent once both are real days in order. */
  @state() accessor _custom = false
  /** Why the custom dates were not applied (a range the server would refuse), or null. */
  @state() accessor _datesProblem: string | null = null

  private _emit(change: Partial<UsageFilters>): void {
    if (this.filters === undefined) return
    const detail: UsageFilters = { ...this.filters, ...change, page: 1 }
    this.dispatchEvent(new CustomEvent(FILTERS_CHANGE_EVENT, { detail, bubbles: true, composed: true }))
  }

  private _preset(range: RangePreset): void {
    this._custom = false
    this._emit({ range, start: "", end: "" })
  }

  private _dates(): void {
    const start = this.renderRoot.querySelector<HTMLInputElement>("#from")?.value ?? ""
    const end = this.renderRoot.querySelector<HTMLInputElement>("#to")?.value ?? ""
    if (!isCalendarDay(start) || !isCalendarDay(end)) return
    // Not sent when the server would refuse it: say why next to the dates instead.
    this._datesProblem =
      start > end
        ? "The first day is after the last."
        : isAnsweredRange(start, end)
          ? null
          : `At most ${MAX_RANGE_DAYS} days: pick a shorter range.`
    if (this._datesProblem === null) this._emit({ range: "custom", start, end })
  }

  private _toggle(list: "keys" | "models", value: string, on: boolean): void {
    const current = this.filters?.[list] ?? []
    this._emit({ [list]: on ? [...current, value] : current.filter((v) => v !== value) })
  }

  private _choices(list: "keys" | "models", heading: string, options: ReadonlyArray<KeyChoice>) {
    const picked = new Set(this.filters?.[list] ?? [])
    // A pick from the URL that is not among the options (a model idle in this range) stays visible and undoable.
    const all = [
      ...options,
      ...[...picked].filter((v) => !options.some((o) => o.id === v)).map((id) => ({ id, name: id }))
    ]
    const summary = picked.size === 0 ? "all" : `${picked.size} of ${all.length}`
    return html`<fieldset class="picks">
      <legend>${heading}: ${summary}</legend>
      <div class="choices">
        ${all.map(
          (o) => html`<label>
            <input
              type="checkbox"
              .checked=${picked.has(o.id)}
              @change=${(e: Event) => this._toggle(list, o.id, (e.target as HTMLInputElement).checked)}
            />
            ${o.name}
          </label>`
        )}
      </div>
    </fieldset>`
  }

  override render() {
    const filters = this.filters
    if (filters === undefined) return html``
    const custom = this._custom || filters.range === "custom"
    const { start, end } = resolveRange(filters, utcToday())
    return html`<div class="controls">
      <fieldset>
        <legend>Range</legend>
        <div class="row">
          ${PRESETS.map(
            (p) => html`<button
              type="button"
              aria-pressed=${!custom && filters.range === p.id ? "true" : "false"}
              @click=${() => this._preset(p.id)}
            >
              ${p.label}
            </button>`
          )}
          <button type="button" aria-pressed=${custom ? "true" : "false"} @click=${() => (this._custom = true)}>
            Custom
          </button>
        </div>
      </fieldset>
      ${
        custom
          ? html`<div class="dates">
              <label>From <input id="from" type="date" .value=${start} max=${end} @change=${this._dates} /></label>
              <label>To <input id="to" type="date" .value=${end} min=${start} @change=${this._dates} /></label>
              ${this._datesProblem === null ? nothing : html`<p class="error" role="alert">${this._datesProblem}</p>`}
            </div>`
          : html``
      }
      <label>
        Rows per
        <select
          @change=${(e: Event) => this._emit({ granularity: (e.target as HTMLSelectElement).value as Granularity })}
        >
          ${(["day", "week", "month"] as const).map(
            (g) => html`<option value=${g} ?selected=${filters.granularity === g}>${g}</option>`
          )}
        </select>
      </label>
      <label>
        and per
        <select @change=${(e: Event) => this._emit({ split: (e.target as HTMLSelectElement).value as SplitBy })}>
          ${(["model", "key"] as const).map(
            (s) => html`<option value=${s} ?selected=${filters.split === s}>${s}</option>`
          )}
        </select>
      </label>
      ${this._choices("keys", "Keys", this.keys)}
      ${this._choices(
        "models",
        "Models",
        this.models.map((m) => ({ id: m, name: m }))
      )}
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-usage-filters": OrwUsageFilters
  }
}
