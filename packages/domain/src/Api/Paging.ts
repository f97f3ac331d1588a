import { Schema } from "effect"

export const positiveInt = (name: string, max: number) =>
  Schema.NumberFromString.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= max, {
      message: () => `${name} must be a whole number from 1 to ${max}`
    })
  ).annotations({ description: `A whole number from 1 to ${max}` })

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
