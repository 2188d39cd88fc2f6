/**
 * The dashboard's assets are imported as text (`with { type: "text" }`) so `bun build --compile`
 * embeds them in the binary; these declarations give those imports their string type.
 */
declare module "*/ui/app.js" {
  const text: string;
  export default text;
}

declare module "*/ui/style.css" {
  const text: string;
  export default text;
}

declare module "*/ui/charts.js" {
  const text: string;
  export default text;
}

/** uPlot's browser build and style sheet, served as they are published (src/http/routes-ui.ts). */
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}

declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
