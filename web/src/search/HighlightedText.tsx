import Box from '@mui/material/Box';

/**
 * Text the search engine marked up with its pre/post tags (`<em>pay</em>ments`, or its own random tags),
 * shown with the matches highlighted. The text is split on the tags and rendered as text: never as HTML.
 */
export function HighlightedText({ text, preTag, postTag }: { text: string; preTag?: string; postTag?: string }) {
  return (
    <>
      {splitHighlights(text, preTag, postTag).map((part, i) =>
        part.match ? (
          <Box key={i} component="mark" sx={{ bgcolor: '#fdeeb4', color: 'inherit', borderRadius: 0.5, px: 0.25 }}>
            {part.text}
          </Box>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  );
}

export function splitHighlights(text: string, preTag?: string, postTag?: string): { text: string; match: boolean }[] {
  if (!preTag || !postTag) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  let rest = text;
  while (rest !== '') {
    const start = rest.indexOf(preTag);
    if (start === -1) break;
    const end = rest.indexOf(postTag, start + preTag.length);
    if (end === -1) break;
    if (start > 0) parts.push({ text: rest.slice(0, start), match: false });
    parts.push({ text: rest.slice(start + preTag.length, end), match: true });
    rest = rest.slice(end + postTag.length);
  }
  if (rest !== '') parts.push({ text: rest, match: false });
  return parts;
}
