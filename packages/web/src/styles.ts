import { css } from "lit"

/** Styles every page shares: type, forms, buttons, tables, cards and notices (light and dark). */
export const shared = css`
  :host {
    display: block;
    color: var(--fg);
  }
  h1 {
    font-size: 1.5rem;
    margin: 0 0 1rem;
  }
  h2 {
    font-size: 1.1rem;
    margin: 0 0 0.75rem;
  }
  .card {
    background: var(--card);
    border: 1px solid var(--line);
    border-radius: 10px;
    padding: 1rem 1.25rem;
    margin-bottom: 1rem;
  }
  .narrow {
    max-width: 420px;
    margin: 2rem auto;
  }
  form {
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    gap: 0.75rem;
  }
  label {
    display: grid;
    gap: 0.25rem;
    font-weight: 600;
    font-size: 0.9rem;
    grid-template-columns: minmax(0, 1fr);
    min-width: 0;
  }
  input {
    font: inherit;
    font-weight: 400;
    padding: 0.5rem 0.6rem;
    border: 1px solid var(--line-strong);
    border-radius: 6px;
    background: var(--bg);
    color: var(--fg);
    /* A wide field (e.g. size="50") shrinks to a narrow screen instead of widening the page. */
    max-width: 100%;
    box-sizing: border-box;
  }
  /* A select is as wide as its longest option (a long key name): it shrinks to the screen instead. */
  select {
    max-width: 100%;
    min-width: 0;
    text-overflow: ellipsis;
  }
  .hint {
    font-weight: 400;
    color: var(--muted);
    font-size: 0.85rem;
  }
  button {
    font: inherit;
    cursor: pointer;
    padding: 0.45rem 0.9rem;
    border-radius: 6px;
    border: 1px solid var(--line-strong);
    background: var(--card);
    color: var(--fg);
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: #fff;
  }
  button.danger {
    color: var(--bad);
    border-color: var(--bad);
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  :is(button, input, a, select, textarea, summary):focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-size: 0.9rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.45rem 0.5rem;
    border-bottom: 1px solid var(--line);
    vertical-align: top;
    /*
     * A long key or model name wraps inside its cell rather than overflowing it. break-word, not anywhere: the
     * latter lets the table squeeze a column to one letter a line ("Ac/ti/ve"); phones get the cards below.
     */
    overflow-wrap: break-word;
  }
  li {
    overflow-wrap: anywhere;
  }
  td.num,
  th.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
    /* A figure stays whole; the name beside it wraps instead. */
    overflow-wrap: normal;
  }
  .error {
    color: var(--bad);
    background: var(--bad-bg);
    border-radius: 6px;
    padding: 0.5rem 0.75rem;
  }
  .notice {
    background: var(--ok-bg);
    border-radius: 6px;
    padding: 0.5rem 0.75rem;
  }
  .muted {
    color: var(--muted);
  }
  .row {
    display: flex;
    gap: 0.5rem;
    flex-wrap: wrap;
    align-items: center;
    /* Never wider than where it sits: its items wrap instead. */
    min-width: 0;
    max-width: 100%;
  }
  /* On a narrow screen a table of many columns becomes one card per row, each cell with its column's name (data-label). */
  @media (max-width: 720px) {
    table.cards,
    table.cards tbody,
    table.cards tr,
    table.cards td,
    table.cards tbody th {
      display: block;
    }
    table.cards thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
    table.cards tr {
      border: 1px solid var(--line);
      border-radius: 8px;
      padding: 0.5rem 0.75rem;
      margin-bottom: 0.75rem;
    }
    table.cards td,
    table.cards tbody th {
      border: 0;
      padding: 0.2rem 0;
      text-align: left;
    }
    /* The column's name on the left, the value beside it: a card stays about as short as its figures. */
    table.cards td[data-label] {
      display: flow-root;
      padding-left: 8.5rem;
    }
    /* A card's value column is narrow: long figures and names wrap there instead of overflowing the screen. */
    table.cards td,
    table.cards tbody th {
      overflow-wrap: anywhere;
    }
    table.cards .nowrap,
    table.cards .reset {
      white-space: normal;
    }
    table.cards td[data-label]::before {
      content: attr(data-label);
      float: left;
      margin-left: -8.5rem;
      width: 8rem;
      font-size: 0.8rem;
      font-weight: 600;
      color: var(--muted);
    }
  }
  .nowrap {
    white-space: nowrap;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`

/** The filter bars of the dashboard and the usage explorer: range toggles that are on, and their selects. */
export const filterControls = css`
  button[aria-pressed="true"] {
    background: var(--accent);
    border-color: var(--accent);
    color: #fff;
  }
  select {
    font: inherit;
    padding: 0.4rem;
    border-radius: 6px;
    background: var(--card);
    color: var(--fg);
  }
`
