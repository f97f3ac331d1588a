import { Schema } from "effect"

/**
 * A whole number written in decimal digits only: `Number()` would also read `0x10`, `1e3`, ` 1` and `+1`,
 * so each value would have many spellings (and a cache or a log would not see them as one).
 */
export const positiveInt = (name: string, max: number) => {
  const message = () => `${name} must be a whole number from 1 to ${max}`
  return Schema.String.pipe(
    Schema.pattern(/^[1-9][0-9]{0,15}$/, { message }),
    Schema.compose(Schema.NumberFromString),
    Schema.filter((n) => Number.isSafeInteger(n) && n >= 1 && n <= max, { message })
  ).annotations({ description: `A whole number from 1 to ${max}` })
}

export const MAX_PAGE_SIZE = 1000

export class Pagination extends Schema.Class<Pagination>("Pagination")({
  page: Schema.Int,
  limit: Schema.Int,
  total: Schema.Int,
  pages: Schema.Int
}) {}

/** `page` (default 1) and `limit` (default 50, at most 1000) of a paginated list. */
export const PageParams = Schema.Struct({
  page: Schema.optionalWith(positiveInt("page", Number.MAX_SAFE_INTEGER), { default: () => 1 }),
  limit: Schema.optionalWith(positiveInt("limit", MAX_PAGE_SIZE), { default: () => 50 })
})
