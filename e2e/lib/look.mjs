// What a person sees, read from the page: computed colours and contrast, so a stylesheet that
// breaks a component fails the tests even when every element is still in the DOM.

/** rgba parses a computed CSS colour ("rgb(1, 2, 3)" or "rgba(1, 2, 3, 0.5)") into [r, g, b, a]. */
export function rgba(css) {
  const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(css);
  if (!m) throw new Error(`cannot read the colour ${JSON.stringify(css)}`);
  let a = m[4] === undefined ? 1 : m[4].endsWith("%") ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
  return [Number(m[1]), Number(m[2]), Number(m[3]), a];
}

function luminance([r, g, b]) {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** contrast is the WCAG contrast ratio of two opaque colours (1 to 21). */
export function contrast(a, b) {
  const [hi, lo] = [luminance(rgba(a)), luminance(rgba(b))].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** transparent reports whether a computed background shows nothing of its own. */
export const transparent = (css) => rgba(css)[3] === 0;

/**
 * chipLook reads how the topic chip labelled `name` looks: its label's text and background
 * colours and whether its check mark is visible, and if so, whether the mark paints a box of its
 * own (background or border) over the label.
 */
export async function chipLook(page, name) {
  const chip = page.locator("label.chip", { has: page.getByRole("checkbox", { name, exact: true }) });
  const mark = chip.locator(".chip-mark");
  const label = chip.locator("xpath=./span"); // the visible pill: the label's own span
  const markVisible = await mark.isVisible();
  const [labelStyle, markStyle] = await Promise.all([
    label.evaluate((el) => {
      const s = getComputedStyle(el);
      return { color: s.color, background: s.backgroundColor };
    }),
    mark.evaluate((el) => {
      const s = getComputedStyle(el);
      return { background: s.backgroundColor, border: s.borderTopWidth, padding: s.paddingLeft };
    }),
  ]);
  return { markVisible, label: labelStyle, mark: markStyle };
}
