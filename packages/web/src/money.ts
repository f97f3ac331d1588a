import { html } from "lit"
import { usd, usdExact } from "./format.js"

/** An amount in cents, with the exact micro-dollar figure on hover (and for assistive technology, `title`). */
export const money = (value: number) => html`<span title=${usdExact(value)}>${usd(value)}</span>`

/** {@link money}, or `unknown` (e.g. "–") for an amount not known yet. */
export const moneyOr = (value: number | null, unknown: string) => (value === null ? unknown : money(value))
