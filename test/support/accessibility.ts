import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The WCAG 2.1 levels A and AA rules of axe-core. */
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// The scripts below run in the page (they are strings: the project's types have no DOM).

/**
 * What axe-core (from node_modules, no network) finds against WCAG 2.1 AA on the page, one line
 * per violation and element. The page's context needs bypassCSP: the pages allow no script.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate<string[]>(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_21_AA)} }, resultTypes: ['violations'] })
    .then((result) => result.violations.flatMap((v) => v.nodes.map((node) => v.id + ' (' + v.help + ') at ' + JSON.stringify(node.target) + ': ' + (node.failureSummary || ''))))`);
}

/**
 * What stops the page from being used at its viewport's width: sideways scrolling, and every
 * control (link, button, field) that has no size or lies partly outside the viewport's width.
 */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    if (document.documentElement.scrollWidth > width) problems.push('scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
    for (const control of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
      const box = control.getBoundingClientRect();
      const name = control.tagName.toLowerCase() + ' "' + (control.innerText || control.getAttribute('name') || '').trim() + '"';
      if (box.width === 0 || box.height === 0) problems.push(name + ' is not shown');
      else if (box.left < 0 || box.right > width) problems.push(name + ' is cut off: ' + Math.round(box.left) + '..' + Math.round(box.right) + ' of ' + width);
    }
    return problems;
  })()`);
}

/** The focused element as a person hears it: its label, text or name. */
export async function focused(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return '(nothing)';
    const label = element.id ? document.querySelector('label[for="' + element.id + '"]')?.textContent : undefined;
    return (label ?? element.innerText ?? element.getAttribute('name') ?? element.tagName).trim();
  })()`);
}
