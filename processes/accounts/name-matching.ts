// Name normalisation and Jaro-Winkler similarity for sanctions screening.
//
// Names are compared after normalisation: Unicode compatibility decomposition with the accents
// dropped (José → jose), letters that do not decompose mapped by hand (ß → ss, ø → o), lower case,
// every run of punctuation or spaces turned into one space. The similarity of two names is the best
// of three views, each a Jaro-Winkler score in [0, 1]:
//   - the whole names as written (catches typing errors and transposed letters);
//   - the tokens sorted alphabetically (catches the same name with given and family names swapped);
//   - every token of each name paired with its best match in the other, averaged over the tokens of
//     both names (catches reordering plus typing errors; averaging over both sides keeps a one-word
//     name like "Volkov" from scoring 1.0 against every "<anyone> Volkov").

const EXTRA_FOLDS: Readonly<Record<string, string>> = Object.freeze({
  ß: 'ss',
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
});

/** The normalised form of a name, with tokens separated by single spaces. */
export function normaliseName(name: string): string {
  const folded = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßøæœłđðþı]/g, (c) => EXTRA_FOLDS[c]!);
  return folded.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

export function nameTokens(normalised: string): string[] {
  return normalised === '' ? [] : normalised.split(' ');
}

/** The Jaro similarity of two strings (1 for equal strings, 0 when nothing matches). */
export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const matchedA = new Uint8Array(la);
  const matchedB = new Uint8Array(lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lb - 1, i + window);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] === 0 && a.charCodeAt(i) === b.charCodeAt(j)) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let halfTranspositions = 0;
  let j = 0;
  for (let i = 0; i < la; i++) {
    if (matchedA[i] === 0) continue;
    while (matchedB[j] === 0) j++;
    if (a.charCodeAt(i) !== b.charCodeAt(j)) halfTranspositions++;
    j++;
  }
  const m = matches;
  return (m / la + m / lb + (m - halfTranspositions / 2) / m) / 3;
}

/** Winkler's prefix bonus: scale 0.1 per common leading character, at most 4 characters. */
const WINKLER_PREFIX_SCALE = 0.1;
const WINKLER_MAX_PREFIX = 4;

export function jaroWinkler(a: string, b: string): number {
  const j = jaro(a, b);
  let prefix = 0;
  const limit = Math.min(WINKLER_MAX_PREFIX, a.length, b.length);
  while (prefix < limit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return j + prefix * WINKLER_PREFIX_SCALE * (1 - j);
}

function bestTokenAverage(a: readonly string[], b: readonly string[]): number {
  let sum = 0;
  for (const x of a) {
    let best = 0;
    for (const y of b) best = Math.max(best, jaroWinkler(x, y));
    sum += best;
  }
  for (const y of b) {
    let best = 0;
    for (const x of a) best = Math.max(best, jaroWinkler(x, y));
    sum += best;
  }
  return sum / (a.length + b.length);
}

/** A name prepared once for many comparisons. */
export interface PreparedName {
  readonly normalised: string;
  readonly tokens: readonly string[];
  readonly sorted: string;
}

export function prepareName(name: string): PreparedName {
  const normalised = normaliseName(name);
  const tokens = nameTokens(normalised);
  return { normalised, tokens, sorted: [...tokens].sort().join(' ') };
}

/** Similarity in [0, 1] of two prepared names (see the file comment for the three views). */
export function nameSimilarity(a: PreparedName, b: PreparedName): number {
  if (a.tokens.length === 0 || b.tokens.length === 0) return 0;
  if (a.normalised === b.normalised) return 1;
  return Math.max(jaroWinkler(a.normalised, b.normalised), jaroWinkler(a.sorted, b.sorted), bestTokenAverage(a.tokens, b.tokens));
}
