import { seriesKey, seriesKeyOf, seriesLabels } from '../../src/detector/sharding';

describe('seriesKeyOf', () => {
  test.each([
    ['plain, as Prometheus writes it', '{"__name__":"up","instance":"a:9100","job":"node"}'],
    ['no labels', '{}'],
    ['only a name', '{"__name__":"up"}'],
    ['escapes', '{"instance":"a\\"b","path":"C:\\\\x"}'],
    ['labels out of order', '{"job":"node","instance":"a"}'],
    ['a value holding the separators', '{"a":"x\\",\\"b\\":\\"y","c":"z"}'],
    ['unicode', '{"city":"Zürich","emoji":"☃"}'],
    ['spaces', '{ "job" : "node" }'],
  ])('is the key of the parsed labels: %s', (_what, text) => {
    expect(seriesKeyOf(text)).toBe(seriesKey(seriesLabels(JSON.parse(text) as Record<string, string>)));
  });
});
