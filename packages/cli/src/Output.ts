import { Console, Effect } from "effect"

const CONTROL = /\p{Cc}/gu

/** A table cell on one line: control characters (newlines in a key name) become spaces. */
export const cell = (value: string): string => value.replace(CONTROL, " ")

/**
 * A table printed in parts, for output that streams: the column widths are taken from
 * the header and the first part (a later wider cell pushes its row out rather than
 * realigning what is already printed). The last column is never padded.
 */
export const tableWriter = (headers: ReadonlyArray<string>) => {
  const widths = headers.map((header) => header.length)
  let started = false
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((value, i) => (i === cells.length - 1 ? value : value.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  return (rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
    const cleaned = rows.map((row) => row.map(cell))
    const lines: Array<string> = []
    if (!started) {
      started = true
      for (const row of cleaned) {
        for (const [i, value] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, value.length)
      }
      lines.push(line(headers))
    }
    for (const row of cleaned) lines.push(line(row))
    return lines
  }
}

/** A whole table as lines. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> =>
  tableWriter(headers)(rows)

/** Prints lines at once (one write per batch keeps big outputs fast); nothing for none. */
export const printLines = (lines: ReadonlyArray<string>) =>
  lines.length === 0 ? Effect.void : Console.log(lines.join("\n"))
