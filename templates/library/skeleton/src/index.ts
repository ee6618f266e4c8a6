/** ${{ values.description }} */

/**
 * A URL- and file-name-safe slug: lowercase ASCII letters, digits and single "-", accents folded
 * ("Crème Brûlée" → "creme-brulee"), at most `maxLength` characters, never ending in "-".
 */
export function slugify(text: string, maxLength = 63): string {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, maxLength).replace(/-+$/, '');
}
