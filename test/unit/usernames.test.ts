import { displayUsername, usernameKey } from '../../src/identity/usernames.ts';

describe('usernameKey: the spellings of one username meet, different usernames stay apart', () => {
  test.each([
    ['alice', 'Alice', 'case'],
    ['alice', '  ALICE\t', 'surrounding space'],
    ['alice', 'ａｌｉｃｅ', 'fullwidth letters (NFKC)'],
    ['office', 'oﬃce', 'a ligature (NFKC)'],
    ['josé', 'jose\u0301', 'a composed or a combining accent'],
    ['strasse', 'Straße', 'ß case-folds to ss'],
    ['ΟΔΥΣΣΕΥΣ', 'οδυσσευς', 'Greek final and medial sigma'],
  ])('%j and %j are one (%s)', (a, b) => {
    expect(usernameKey(a)).toBe(usernameKey(b));
  });

  test.each([
    ['alice', 'alice2'],
    ['alice', 'al ice'],
    ['jose', 'josé'],
  ])('%j and %j are two', (a, b) => {
    expect(usernameKey(a)).not.toBe(usernameKey(b));
  });

  test('the shown spelling keeps its case and loses only space and compatibility forms', () => {
    expect(displayUsername(' Ａlice ')).toBe('Alice');
  });
});
