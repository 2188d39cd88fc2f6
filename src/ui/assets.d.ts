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
