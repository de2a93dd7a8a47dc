import { labelTextOf, outputLabelText } from '../../src/detector/label-text';
import { seriesLabels } from '../../src/detector/sharding';

describe('labelTextOf', () => {
  test.each([
    ['plain, as Prometheus writes it', '{"__name__":"up","instance":"a:9100","job":"node"}'],
    ['no labels', '{}'],
    ['only a name', '{"__name__":"up"}'],
    ['escapes', '{"instance":"a\\"b","path":"C:\\\\x","text":"line\\nnext"}'],
    ['labels out of order', '{"job":"node","instance":"a"}'],
    ['a value holding the separators', '{"a":"x\\",\\"b\\":\\"y","c":"z"}'],
    ['unicode', '{"city":"Zürich","emoji":"☃"}'],
    ['spaces', '{ "job" : "node" }'],
    ['labels named like ours', '{"detector":"d","job":"node","rule":"r"}'],
    ['exported_rule beside rule', '{"exported_rule":"e","rule":"r"}'],
  ])('is the label text of the parsed labels: %s', (_what, text) => {
    const labels = seriesLabels(JSON.parse(text) as Record<string, string>);
    expect(labelTextOf(text, 'cpu "busy"')).toBe(outputLabelText(labels, 'cpu "busy"'));
  });

  it('escapes values and renames labels that clash with the outputs', () => {
    expect(labelTextOf('{"__name__":"up","detector":"d","job":"a\\"b","rule":"r"}', 'cpu')).toBe(
      'exported_detector="d",job="a\\"b",exported_rule="r",rule="cpu"',
    );
    expect(labelTextOf('{"__name__":"up","instance":"host-1.example.com:9100"}', 'cpu')).toBe(
      'instance="host-1.example.com:9100",rule="cpu"',
    );
  });
});
