/** A stylesheet imported as text (vite's `?inline`), for a shadow root's adopted styles. */
declare module "*.css?inline" {
  const css: string
  export default css
}
