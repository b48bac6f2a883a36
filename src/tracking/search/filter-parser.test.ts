import { describe, expect, it } from 'vitest';
import { OnsetError } from '../../errors.js';
import type { Comparison, SearchTarget } from './filter-ast.js';
import { FILTER_ATTRIBUTES, ORDER_BY_ATTRIBUTES, parseFilter, parseOrderBy } from './filter-parser.js';

/** The OnsetError `fn` throws (failing the test when it throws nothing or something else). */
function errorOf(fn: () => unknown): OnsetError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OnsetError);
    const onset = error as OnsetError;
    expect(onset.code).toBe('INVALID_PARAMETER_VALUE');
    expect(onset.httpStatus).toBe(400);
    return onset;
  }
  throw new Error('expected an OnsetError, nothing was thrown');
}

const one = (target: SearchTarget, text: string): Comparison => {
  const filter = parseFilter(target, text);
  expect(filter).toHaveLength(1);
  return filter[0]!;
};

describe('parseFilter: empty filters', () => {
  it.each([undefined, '', '   ', '\n\t '])('%j gives []', (text) => {
    for (const target of ['runs', 'experiments', 'registered_models', 'model_versions'] as const) {
      expect(parseFilter(target, text)).toEqual([]);
    }
  });
});

describe('parseFilter: runs', () => {
  const numeric = ['=', '!=', '>', '>=', '<', '<='] as const;

  it.each(numeric)('metrics with %s and a number', (op) => {
    expect(one('runs', `metrics.roc_auc ${op} 0.9`)).toEqual({
      entity: 'metric',
      key: 'roc_auc',
      comparator: op,
      value: 0.9,
    });
  });

  it.each([
    ['0', 0],
    ['42', 42],
    ['-3', -3],
    ['+3', 3],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['-2.5e+2', -250],
    ['12345678901234', 12345678901234],
  ])('number %s', (text, value) => {
    expect(one('runs', `metrics.x < ${text}`).value).toBe(value);
  });

  it.each([
    ['=', '='],
    ['!=', '!='],
    ['LIKE', 'LIKE'],
    ['like', 'LIKE'],
    ['ILIKE', 'ILIKE'],
    ['iLiKe', 'ILIKE'],
  ])('params and tags with %s', (written, comparator) => {
    expect(one('runs', `params.max_depth ${written} '6'`)).toEqual({
      entity: 'param',
      key: 'max_depth',
      comparator,
      value: '6',
    });
    expect(one('runs', `tags.team ${written} "ml"`)).toEqual({
      entity: 'tag',
      key: 'team',
      comparator,
      value: 'ml',
    });
  });

  it.each([
    ['tags.owner IS NULL', 'IS NULL'],
    ['tags.owner is null', 'IS NULL'],
    ['tags.owner IS NOT NULL', 'IS NOT NULL'],
    ['tags.owner  is\tnot \n null', 'IS NOT NULL'],
  ])('%s', (text, comparator) => {
    expect(one('runs', text)).toEqual({ entity: 'tag', key: 'owner', comparator, value: null });
  });

  it.each([
    ['metric.x > 1', 'metric', 'x'],
    ['metrics.x > 1', 'metric', 'x'],
    ['METRICS.x > 1', 'metric', 'x'],
    ["param.x = 'a'", 'param', 'x'],
    ["params.x = 'a'", 'param', 'x'],
    ["parameter.x = 'a'", 'param', 'x'],
    ["parameters.x = 'a'", 'param', 'x'],
    ["tag.x = 'a'", 'tag', 'x'],
    ["tags.x = 'a'", 'tag', 'x'],
    ["attribute.status = 'a'", 'attribute', 'status'],
    ["attributes.status = 'a'", 'attribute', 'status'],
    ["attr.status = 'a'", 'attribute', 'status'],
    ["run.status = 'a'", 'attribute', 'status'],
    ["status = 'a'", 'attribute', 'status'],
    ['`metrics`.x > 1', 'metric', 'x'],
  ])('prefix in %s', (text, entity, key) => {
    expect(one('runs', text)).toMatchObject({ entity, key });
  });

  it.each([
    ["run_id = 'abc'", 'run_id', '=', 'abc'],
    ["run_id != 'abc'", 'run_id', '!=', 'abc'],
    ["run_id LIKE 'ab%'", 'run_id', 'LIKE', 'ab%'],
    ["run_name = 'gbdt-1'", 'run_name', '=', 'gbdt-1'],
    ["attributes.run_name ILIKE '%GBDT%'", 'run_name', 'ILIKE', '%GBDT%'],
    ["status = 'FINISHED'", 'status', '=', 'FINISHED'],
    ["status != 'FAILED'", 'status', '!=', 'FAILED'],
    ["user_id = 'ada'", 'user_id', '=', 'ada'],
    ["artifact_uri LIKE 'file:///%'", 'artifact_uri', 'LIKE', 'file:///%'],
    ['start_time >= 1700000000000', 'start_time', '>=', 1700000000000],
    ['attributes.end_time < 1700000000000', 'end_time', '<', 1700000000000],
    ['end_time != 0', 'end_time', '!=', 0],
    ['created > 5', 'start_time', '>', 5],
    ['Created > 5', 'start_time', '>', 5],
    ["attributes.`Run name` = 'x'", 'run_name', '=', 'x'],
    ["`run name` = 'x'", 'run_name', '=', 'x'],
    ['attributes."Run Name" = \'x\'', 'run_name', '=', 'x'],
  ])('attribute: %s', (text, key, comparator, value) => {
    expect(one('runs', text)).toEqual({ entity: 'attribute', key, comparator, value });
  });

  it.each([
    ["run_id IN ('a')", 'IN', ['a']],
    ["run_id in ('a', 'b')", 'IN', ['a', 'b']],
    ['run_id IN ( "a" ,\'b\',"c" )', 'IN', ['a', 'b', 'c']],
    ["run_id NOT IN ('a','b')", 'NOT IN', ['a', 'b']],
    ["run_id not  in\n('a')", 'NOT IN', ['a']],
    ["attributes.run_id IN ('it''s', 'a\\'b')", 'IN', ["it's", "a'b"]],
  ])('IN list: %s', (text, comparator, value) => {
    expect(one('runs', text)).toEqual({ entity: 'attribute', key: 'run_id', comparator, value });
  });

  it.each([
    ['metrics.`my key` > 1', 'metric', 'my key'],
    ['metrics."my key" > 1', 'metric', 'my key'],
    ['tags."mlflow.source.name" = \'x\'', 'tag', 'mlflow.source.name'],
    ["tags.mlflow.source.name = 'x'", 'tag', 'mlflow.source.name'],
    ["tags.`mlflow.runName` = 'x'", 'tag', 'mlflow.runName'],
    ['metrics.train/loss < 1', 'metric', 'train/loss'],
    ['metrics.val-loss < 1', 'metric', 'val-loss'],
    ['metrics.eval:auc < 1', 'metric', 'eval:auc'],
    ['metrics.épsilon < 1', 'metric', 'épsilon'],
    ['metrics.`a``b` < 1', 'metric', 'a`b'],
    ['metrics."a""b" < 1', 'metric', 'a"b'],
    ['metrics.`a AND b > 1` < 1', 'metric', 'a AND b > 1'],
    ['metrics.AND < 1', 'metric', 'AND'],
    ["params.`'quoted'` = 'x'", 'param', "'quoted'"],
  ])('key %s', (text, entity, key) => {
    expect(one('runs', text)).toMatchObject({ entity, key });
  });

  it.each([
    ["'plain'", 'plain'],
    ['"plain"', 'plain'],
    ["''", ''],
    ['""', ''],
    ["'it''s'", "it's"],
    ["'it\\'s'", "it's"],
    ['"say ""hi"""', 'say "hi"'],
    ['"say \\"hi\\""', 'say "hi"'],
    ['"it\'s"', "it's"],
    ["'a\"b'", 'a"b'],
    ["'back\\\\slash'", 'back\\slash'],
    ["'50\\%'", '50\\%'],
    ["'C:\\path'", 'C:\\path'],
    ["'a and b'", 'a and b'],
    ["'x = 1 OR y'", 'x = 1 OR y'],
    ["'  spaced  '", '  spaced  '],
    ["'ünïcødé ✓'", 'ünïcødé ✓'],
    ["'line\nbreak'", 'line\nbreak'],
  ])('string %s', (text, value) => {
    expect(one('runs', `params.p = ${text}`).value).toBe(value);
  });

  it('joins comparisons with a case-insensitive AND, keeping their order', () => {
    const text =
      "metrics.roc_auc > 0.9 and params.max_depth = '6' AND tags.\"mlflow.runName\" LIKE 'gbdt%' " +
      "And status = 'FINISHED' aNd run_id IN ('a', 'b') and start_time >= 0";
    expect(parseFilter('runs', text)).toEqual([
      { entity: 'metric', key: 'roc_auc', comparator: '>', value: 0.9 },
      { entity: 'param', key: 'max_depth', comparator: '=', value: '6' },
      { entity: 'tag', key: 'mlflow.runName', comparator: 'LIKE', value: 'gbdt%' },
      { entity: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' },
      { entity: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
      { entity: 'attribute', key: 'start_time', comparator: '>=', value: 0 },
    ]);
  });

  it('accepts many clauses, repeated keys included', () => {
    const clauses = Array.from({ length: 50 }, (_, i) => `metrics.m${i} > ${i}`);
    const filter = parseFilter('runs', clauses.join(' and '));
    expect(filter).toHaveLength(50);
    expect(filter[49]).toEqual({ entity: 'metric', key: 'm49', comparator: '>', value: 49 });
    expect(parseFilter('runs', 'metrics.x > 1 and metrics.x < 2')).toHaveLength(2);
  });

  it.each([
    "metrics.x>1 and params.p='a'",
    "  metrics.x\t>\n1   AND\n\nparams.p  =  'a'  ",
    "metrics.x > 1 and params.p = 'a'",
    "metrics.x>1 AND params.p='a'",
    "metrics.x > 1\r\nand params.p = 'a'",
  ])('whitespace is free: %j', (text) => {
    expect(parseFilter('runs', text)).toEqual([
      { entity: 'metric', key: 'x', comparator: '>', value: 1 },
      { entity: 'param', key: 'p', comparator: '=', value: 'a' },
    ]);
  });

  it("accepts AND right after a string: 'a'and", () => {
    expect(parseFilter('runs', "params.p = 'a'and params.q = 'b'")).toHaveLength(2);
  });

  it('searches datasets by name, digest and context, as dataset. or datasets.', () => {
    expect(
      parseFilter(
        'runs',
        "datasets.name = 'train' and dataset.digest IN ('a1', 'b2') and datasets.context ILIKE 'EVAL%' and " +
          "datasets.name != 'x' and datasets.digest NOT IN ('c') and datasets.context LIKE 'tr%'",
      ),
    ).toEqual([
      { entity: 'dataset', key: 'name', comparator: '=', value: 'train' },
      { entity: 'dataset', key: 'digest', comparator: 'IN', value: ['a1', 'b2'] },
      { entity: 'dataset', key: 'context', comparator: 'ILIKE', value: 'EVAL%' },
      { entity: 'dataset', key: 'name', comparator: '!=', value: 'x' },
      { entity: 'dataset', key: 'digest', comparator: 'NOT IN', value: ['c'] },
      { entity: 'dataset', key: 'context', comparator: 'LIKE', value: 'tr%' },
    ]);
  });
});

describe('parseFilter: experiments, registered models, model versions', () => {
  it.each([
    ["name = 'churn'", 'name', '=', 'churn'],
    ["name != 'churn'", 'name', '!=', 'churn'],
    ["name LIKE 'ch%'", 'name', 'LIKE', 'ch%'],
    ["attribute.name ILIKE '%CH%'", 'name', 'ILIKE', '%CH%'],
    ['creation_time > 1', 'creation_time', '>', 1],
    ['attributes.last_update_time <= 2', 'last_update_time', '<=', 2],
  ])('experiments: %s', (text, key, comparator, value) => {
    expect(one('experiments', text)).toEqual({ entity: 'attribute', key, comparator, value });
  });

  it.each(['experiments', 'registered_models', 'model_versions'] as const)('%s: tags', (target) => {
    expect(parseFilter(target, "tags.team = 'ml' and tag.`a b` LIKE 'x%' and tags.k IS NULL")).toEqual([
      { entity: 'tag', key: 'team', comparator: '=', value: 'ml' },
      { entity: 'tag', key: 'a b', comparator: 'LIKE', value: 'x%' },
      { entity: 'tag', key: 'k', comparator: 'IS NULL', value: null },
    ]);
  });

  it.each([
    ["name = 'm'", '=', 'm'],
    ["name != 'm'", '!=', 'm'],
    ["name LIKE 'm%'", 'LIKE', 'm%'],
    ["name ILIKE 'M%'", 'ILIKE', 'M%'],
  ])('registered_models: %s', (text, comparator, value) => {
    expect(one('registered_models', text)).toEqual({ entity: 'attribute', key: 'name', comparator, value });
  });

  it.each([
    ["name = 'm'", 'name', '=', 'm'],
    ["name ILIKE 'm%'", 'name', 'ILIKE', 'm%'],
    ["run_id = 'r'", 'run_id', '=', 'r'],
    ["run_id != 'r'", 'run_id', '!=', 'r'],
    ["run_id IN ('r', 's')", 'run_id', 'IN', ['r', 's']],
    ["source_path LIKE 'runs:/%'", 'source_path', 'LIKE', 'runs:/%'],
    ['version_number = 3', 'version_number', '=', 3],
    ['version_number >= 2', 'version_number', '>=', 2],
    ['attributes.version_number < 10', 'version_number', '<', 10],
  ])('model_versions: %s', (text, key, comparator, value) => {
    expect(one('model_versions', text)).toEqual({ entity: 'attribute', key, comparator, value });
  });

  it('publishes the attributes each target filters on', () => {
    expect(Object.keys(FILTER_ATTRIBUTES.runs).sort()).toEqual([
      'artifact_uri',
      'end_time',
      'run_id',
      'run_name',
      'start_time',
      'status',
      'user_id',
    ]);
    expect(Object.keys(FILTER_ATTRIBUTES.experiments)).toEqual(['name', 'creation_time', 'last_update_time']);
    expect(Object.keys(FILTER_ATTRIBUTES.registered_models)).toEqual(['name']);
    expect(FILTER_ATTRIBUTES.model_versions.version_number?.type).toBe('number');
  });
});

describe('parseFilter: errors', () => {
  // [target, filter, message fragments]
  const cases: readonly (readonly [SearchTarget, string, readonly string[]])[] = [
    // comparators not allowed for the field
    [
      'runs',
      "params.a > '1'",
      ["Invalid comparator '>' for param 'a'", 'character 10', 'use =, !=, LIKE or ILIKE'],
    ],
    [
      'runs',
      "tags.a >= 'x'",
      ["Invalid comparator '>=' for tag 'a'", 'use =, !=, LIKE, ILIKE, IS NULL or IS NOT NULL'],
    ],
    ['runs', "metrics.a LIKE '1'", ["Invalid comparator 'LIKE' for metric 'a'", 'use =, !=, >, >=, < or <=']],
    ['runs', "metrics.a IN ('1')", ["Invalid comparator 'IN' for metric 'a'"]],
    ['runs', 'metrics.a IS NULL', ["Invalid comparator 'IS NULL' for metric 'a'"]],
    ['runs', 'params.a IS NOT NULL', ["Invalid comparator 'IS NOT NULL' for param 'a'"]],
    ['runs', "status IN ('a')", ["Invalid comparator 'IN' for attribute 'status'", 'character 8']],
    ['runs', "status > 'a'", ["Invalid comparator '>' for attribute 'status'"]],
    [
      'runs',
      'start_time LIKE 1',
      ["Invalid comparator 'LIKE' for attribute 'start_time'", 'use =, !=, >, >=, < or <='],
    ],
    [
      'runs',
      "run_id > 'a'",
      ["Invalid comparator '>' for attribute 'run_id'", 'use =, !=, LIKE, ILIKE, IN or NOT IN'],
    ],
    [
      'model_versions',
      "run_id NOT IN ('a')",
      ["Invalid comparator 'NOT IN' for attribute 'run_id'", 'LIKE, ILIKE or IN'],
    ],
    ['experiments', "name > 'a'", ["Invalid comparator '>' for attribute 'name'"]],
    ['experiments', "name IN ('a')", ["Invalid comparator 'IN' for attribute 'name'"]],
    ['registered_models', "name < 'a'", ["Invalid comparator '<' for attribute 'name'"]],
    // unknown comparators
    ['runs', 'metrics.x <> 1', ["Unknown comparator '<>'", 'character 11', 'use !=']],
    ['runs', 'metrics.x == 1', ["Unknown comparator '=='", 'use =']],
    ['runs', 'metrics.x ~ 1', ["Expected a comparator after 'metrics.x', found '~'", 'character 11']],
    ['runs', 'metrics.x', ["Expected a comparator after 'metrics.x', found end of input", 'character 10']],
    [
      'runs',
      'metrics.my key > 1',
      ["Expected a comparator after 'metrics.my', found 'key'", 'quote keys with spaces'],
    ],
    [
      'runs',
      "params.x NOT LIKE 'a'",
      ["Expected IN after NOT, found 'LIKE'", 'character 14', 'use != instead'],
    ],
    ['runs', 'tags.x IS EMPTY', ["Expected NULL after IS, found 'EMPTY'", 'write IS NULL or IS NOT NULL']],
    ['runs', 'tags.x IS NOT', ['Expected NULL after IS NOT, found end of input']],
    // value types
    [
      'runs',
      "metrics.x = 'abc'",
      ["Expected a number for metric 'x', found string 'abc'", 'character 13', 'unquoted number'],
    ],
    ['runs', "metrics.x = '1'", ["Expected a number for metric 'x', found string '1'"]],
    ['runs', "start_time > '1'", ["Expected a number for attribute 'start_time'"]],
    ['experiments', "creation_time > '1'", ["Expected a number for attribute 'creation_time'"]],
    ['model_versions', "version_number = '3'", ["Expected a number for attribute 'version_number'"]],
    [
      'runs',
      'params.depth = 6',
      ["Expected a quoted string for param 'depth', found number 6", "quote it: '6'"],
    ],
    [
      'runs',
      'tags.t = -1.5',
      ["Expected a quoted string for tag 't', found number -1.5", "quote it: '-1.5'"],
    ],
    ['runs', 'status = 1', ["Expected a quoted string for attribute 'status'"]],
    [
      'runs',
      'status = FINISHED',
      ["Expected a value after =, found 'FINISHED'", 'character 10', 'quoted string'],
    ],
    ['runs', 'metrics.x > abc', ["Expected a value after >, found 'abc'"]],
    ['runs', 'metrics.x >', ['Expected a value after >, found end of input', 'character 12']],
    ['runs', 'metrics.x > 1abc', ["Invalid number '1abc'", 'character 13']],
    ['runs', 'metrics.x > 1.2.3', ["Invalid number '1.2.3'"]],
    ['runs', 'metrics.x > 1e999', ['Number 1e999 is out of range']],
    ['runs', 'metrics.x > NULL', ["Expected a value after >, found 'NULL'"]],
    // lists
    ['runs', "run_id IN 'a'", ['Expected a parenthesized list after IN, found string', "('a', 'b')"]],
    ['runs', "run_id = ('a')", ['A list is only allowed after IN or NOT IN', "use run_id IN ('a', 'b')"]],
    ['runs', 'run_id IN ()', ['Empty list', 'character 11']],
    ['runs', 'run_id IN ( )', ['Empty list']],
    ['runs', "run_id IN ('a',)", ["Expected a quoted string in the list, found ')'", 'character 16']],
    ['runs', "run_id IN ('a' 'b')", ["Expected ',' or ')' in the list, found 'b'"]],
    ['runs', 'run_id IN (1, 2)', ["Expected a quoted string in the list, found '1'"]],
    ['runs', "run_id IN ('a', 'b'", ["Expected ',' or ')' in the list, found end of input"]],
    ['runs', "run_id IN ('a'", ["Expected ',' or ')' in the list, found end of input"]],
    // quoting
    ['runs', "params.x = 'abc", ["Unterminated string starting with '", 'character 12', "close it with '"]],
    ['runs', 'params.x = "abc', ['Unterminated string starting with "']],
    ['runs', "params.x = 'it\\'", ['Unterminated string']],
    ['runs', 'metrics.`abc > 1', ['Unterminated key starting with `', 'character 9']],
    ['runs', 'metrics.`` > 1', ['Empty key', 'character 9']],
    ['runs', '`status = 1', ['Unterminated name starting with `', 'character 1']],
    // identifiers and entities
    ['runs', 'metrics. > 1', ["Expected a key after 'metrics.', found whitespace", 'character 9']],
    ['runs', 'metrics.', ["Expected a key after 'metrics.', found end of input"]],
    [
      'runs',
      "foo.bar = 'x'",
      [
        "Invalid entity 'foo'",
        'character 1',
        'use metrics.<key>, params.<key>, tags.<key>, datasets.<name|digest|context> or an attribute',
      ],
    ],
    ['runs', "mlflow.runName = 'x'", ["Invalid entity 'mlflow'"]],
    ['runs', "constructor.x = 'x'", ["Invalid entity 'constructor'"]],
    ['runs', "dataset.size = 'x'", ["Invalid dataset key 'size'", 'use datasets.name, digest or context']],
    [
      'runs',
      'datasets.name > 1',
      ["Invalid comparator '>' for dataset name", 'use =, !=, LIKE, ILIKE, IN or NOT IN'],
    ],
    ['runs', 'datasets.digest = 1', ['Expected a quoted string for dataset digest']],
    ['experiments', "datasets.name = 'x'", ['Dataset filters are only supported when searching runs']],
    [
      'runs',
      "statuss = 'x'",
      ["Invalid attribute 'statuss' for searching runs", 'use run_id, run_name, status'],
    ],
    ['runs', "attributes.experiment_id = '1'", ["Invalid attribute 'experiment_id'", 'character 12']],
    ['runs', "toString = 'x'", ["Invalid attribute 'toString'"]],
    ['runs', "Status = 'x'", ["Invalid attribute 'Status'"]],
    ['runs', "= 'x'", ["Expected a key, found '='", 'character 1']],
    ['runs', "'status' = 'x'", ["Expected a key, found 'status'"]],
    ['runs', '(metrics.x > 1)', ["Expected a key, found '('"]],
    [
      'experiments',
      'metrics.x > 1',
      [
        "Invalid entity 'metrics': searching experiments by metrics is not supported",
        'use tags.<key> or an attribute (name, creation_time, last_update_time',
      ],
    ],
    ['experiments', "params.x = 'a'", ["Invalid entity 'params'"]],
    ['experiments', "run.name = 'a'", ["Invalid entity 'run'"]],
    ['experiments', 'experiment_id = 1', ["Invalid attribute 'experiment_id' for searching experiments"]],
    [
      'registered_models',
      'metrics.x > 1',
      ["Invalid entity 'metrics': searching registered models by metrics"],
    ],
    [
      'registered_models',
      'creation_timestamp > 1',
      ["Invalid attribute 'creation_timestamp'", 'use name, or tags.<key>'],
    ],
    ['model_versions', "params.x = 'a'", ["Invalid entity 'params': searching model versions"]],
    [
      'model_versions',
      "stage = 'Production'",
      ["Invalid attribute 'stage'", 'name, run_id, source_path or version_number'],
    ],
    // joining
    [
      'runs',
      'metrics.x > 1 or metrics.y < 2',
      ['OR is not supported', 'character 15', 'join comparisons with AND'],
    ],
    [
      'runs',
      'metrics.x > 1 metrics.y < 2',
      ["Expected AND or the end of the filter, found 'metrics.y'", 'character 15'],
    ],
    ['runs', 'metrics.x > 1 and', ['Expected a comparison after AND, found end of input', 'character 18']],
    ['runs', 'metrics.x > 1 and ', ['Expected a comparison after AND']],
    ['runs', 'and metrics.x > 1', ["Invalid attribute 'and'"]],
    ['runs', 'metrics.x > 1 and and metrics.y > 1', ["Invalid attribute 'and'"]],
    ['runs', 'metrics.x > 1;', ["Expected AND or the end of the filter, found ';'"]],
    ['runs', 'metrics.x > 1) and metrics.y > 2', ["found ')'"]],
    ['runs', 'metrics.x > 1 && metrics.y > 2', ["found '&'"]],
    ['runs', "tags.x IS NULL 'a'", ["Expected AND or the end of the filter, found 'a'"]],
  ];

  it.each(cases)('%s: %j', (target, text, fragments) => {
    const error = errorOf(() => parseFilter(target, text));
    expect(error.message).toContain(JSON.stringify(text));
    for (const fragment of fragments) expect(error.message).toContain(fragment);
  });

  it('puts the filter, position, found and allowed in details', () => {
    const error = errorOf(() => parseFilter('runs', "params.a > '1'"));
    expect(error.message).toBe(
      `Invalid comparator '>' for param 'a' at character 10 of filter "params.a > '1'": use =, !=, LIKE or ILIKE`,
    );
    expect(error.details).toEqual({
      filter: "params.a > '1'",
      position: 10,
      found: "'>'",
      allowed: 'use =, !=, LIKE or ILIKE',
    });
  });

  it('truncates long snippets in "found"', () => {
    const error = errorOf(() => parseFilter('runs', `metrics.x > ${'a'.repeat(100)}`));
    expect(error.message).toContain(`found '${'a'.repeat(30)}…'`);
  });
});

describe('parseOrderBy', () => {
  it('gives [] for undefined or no clauses', () => {
    expect(parseOrderBy('runs', undefined)).toEqual([]);
    expect(parseOrderBy('runs', [])).toEqual([]);
  });

  it.each([
    ['metrics.roc_auc', 'metric', 'roc_auc', true],
    ['metrics.roc_auc DESC', 'metric', 'roc_auc', false],
    ['metric.roc_auc desc', 'metric', 'roc_auc', false],
    ['metrics.roc_auc ASC', 'metric', 'roc_auc', true],
    ['metrics.roc_auc asc', 'metric', 'roc_auc', true],
    ['  metrics.roc_auc \t DeSc  ', 'metric', 'roc_auc', false],
    ['metrics.`my key` DESC', 'metric', 'my key', false],
    ['metrics."my key"', 'metric', 'my key', true],
    ['params.max_depth', 'param', 'max_depth', true],
    ['param.max_depth DESC', 'param', 'max_depth', false],
    ['tags.mlflow.runName', 'tag', 'mlflow.runName', true],
    ['tags."mlflow.runName" DESC', 'tag', 'mlflow.runName', false],
    ['start_time', 'attribute', 'start_time', true],
    ['start_time DESC', 'attribute', 'start_time', false],
    ['attributes.start_time DESC', 'attribute', 'start_time', false],
    ['attribute.end_time', 'attribute', 'end_time', true],
    ['attr.run_name', 'attribute', 'run_name', true],
    ['run.status', 'attribute', 'status', true],
    ['run_id', 'attribute', 'run_id', true],
    ['user_id', 'attribute', 'user_id', true],
    ['artifact_uri', 'attribute', 'artifact_uri', true],
    ['created DESC', 'attribute', 'start_time', false],
    ['attributes.`Run Name`', 'attribute', 'run_name', true],
  ])('runs: %j', (clause, entity, key, ascending) => {
    expect(parseOrderBy('runs', [clause])).toEqual([{ entity, key, ascending }]);
  });

  it.each([
    ['experiments', 'name', 'name', true],
    ['experiments', 'experiment_id DESC', 'experiment_id', false],
    ['experiments', 'creation_time desc', 'creation_time', false],
    ['experiments', 'attributes.last_update_time', 'last_update_time', true],
    ['registered_models', 'name', 'name', true],
    ['registered_models', 'timestamp DESC', 'last_updated_timestamp', false],
    ['registered_models', 'last_updated_timestamp', 'last_updated_timestamp', true],
    ['registered_models', 'creation_timestamp asc', 'creation_timestamp', true],
    ['model_versions', 'name', 'name', true],
    ['model_versions', 'version_number DESC', 'version_number', false],
    ['model_versions', 'creation_timestamp', 'creation_timestamp', true],
    ['model_versions', 'attribute.last_updated_timestamp desc', 'last_updated_timestamp', false],
  ] as const)('%s: %j', (target, clause, key, ascending) => {
    expect(parseOrderBy(target, [clause])).toEqual([{ entity: 'attribute', key, ascending }]);
  });

  it('keeps the clauses in order', () => {
    expect(parseOrderBy('runs', ['metrics.auc DESC', 'params.depth', 'start_time desc'])).toEqual([
      { entity: 'metric', key: 'auc', ascending: false },
      { entity: 'param', key: 'depth', ascending: true },
      { entity: 'attribute', key: 'start_time', ascending: false },
    ]);
  });

  it('publishes the attributes each target orders by', () => {
    expect(ORDER_BY_ATTRIBUTES.experiments).toEqual([
      'name',
      'experiment_id',
      'creation_time',
      'last_update_time',
    ]);
    expect(ORDER_BY_ATTRIBUTES.model_versions).toContain('version_number');
  });

  const errors: readonly (readonly [SearchTarget, readonly string[], readonly string[]])[] = [
    ['runs', [''], ['Empty order_by clause', "e.g. 'metrics.roc_auc DESC'"]],
    ['runs', ['   '], ['Empty order_by clause']],
    ['runs', ['metrics.x up'], ["Invalid direction 'up'", 'character 11', 'use ASC or DESC']],
    ['runs', ['metrics.x DESC ASC'], ["Unexpected 'ASC' after the direction", 'character 16']],
    ['runs', ['metrics.x, metrics.y'], ["Unexpected ','", 'one <key> [ASC|DESC] per clause']],
    ['runs', ['metrics.my key'], ["Invalid direction 'key'"]],
    ['runs', ['metrics.'], ["Expected a key after 'metrics.'"]],
    ['runs', ['foo.x'], ["Invalid entity 'foo'"]],
    ['runs', ['dataset.name'], ['Dataset ordering is not supported']],
    [
      'runs',
      ['experiment_id'],
      ["Invalid attribute 'experiment_id' for ordering runs", 'use run_id, run_name'],
    ],
    ['runs', ['metrics.`x'], ['Unterminated key']],
    [
      'experiments',
      ['tags.x'],
      [
        "Invalid entity 'tags': ordering experiments by tags is not supported",
        'use an attribute (name, experiment_id',
      ],
    ],
    ['experiments', ['metrics.x'], ["Invalid entity 'metrics'"]],
    ['experiments', ['last_updated_timestamp'], ["Invalid attribute 'last_updated_timestamp'"]],
    [
      'registered_models',
      ['version_number'],
      [
        "Invalid attribute 'version_number' for ordering registered models",
        'use name, creation_timestamp or last_updated_timestamp',
      ],
    ],
    ['registered_models', ['tags.x DESC'], ["Invalid entity 'tags'"]],
    [
      'model_versions',
      ['timestamp'],
      ["Invalid attribute 'timestamp'", 'name, version_number, creation_timestamp or last_updated_timestamp'],
    ],
    ['model_versions', ['run_id'], ["Invalid attribute 'run_id'"]],
    [
      'runs',
      ['start_time', 'metrics.x sideways'],
      ['order_by clause #2 "metrics.x sideways"', "Invalid direction 'sideways'"],
    ],
  ];

  it.each(errors)('%s: %j', (target, clauses, fragments) => {
    const error = errorOf(() => parseOrderBy(target, clauses));
    for (const fragment of fragments) expect(error.message).toContain(fragment);
  });

  it('quotes the clause and says where', () => {
    const error = errorOf(() => parseOrderBy('runs', ['metrics.x up']));
    expect(error.message).toBe(
      `Invalid direction 'up' at character 11 of order_by clause "metrics.x up": use ASC or DESC (or nothing for ASC)`,
    );
    expect(error.details).toMatchObject({ orderBy: 'metrics.x up', position: 11 });
  });
});
