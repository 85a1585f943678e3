// The compiler, not bootstrap, rejects a method-name fallback that the class does not have: the fixtures
// in test/nest/typing are typechecked here with the TypeScript API and the project's own compiler options.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, 'typing');

let program: ts.Program;

beforeAll(() => {
  const { config } = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  program = ts.createProgram(
    [path.join(FIXTURES, 'fallback-names.ok.ts'), path.join(FIXTURES, 'fallback-names.bad.ts')],
    {
      ...parsed.options,
      noEmit: true,
    },
  );
}, 120_000);

function typecheck(file: string): ts.Diagnostic[] {
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`${file} is not in the program`);
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
}

function render(diagnostic: ts.Diagnostic): string {
  const where =
    diagnostic.file === undefined || diagnostic.start === undefined
      ? ''
      : `${path.basename(diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1} `;
  return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
}

describe('@CircuitBreaker fallback names are typed', () => {
  it('compiles a class whose fallbacks exist: public, inherited, functions, values, composed decorators', () => {
    expect(typecheck(path.join(FIXTURES, 'fallback-names.ok.ts')).map(render)).toEqual([]);
  });

  it('rejects a fallback that is misspelled, a property or private, naming it, one error per decorator', () => {
    const file = path.join(FIXTURES, 'fallback-names.bad.ts');
    const expected = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        const marked = /\/\/ error: (\w+)$/.exec(line);
        return marked === null ? [] : [{ line: i + 1, name: marked[1] }];
      });
    expect(expected.map((e) => e.name)).toEqual(['nope', 'queueForLatr', 'label', 'chargeLater']);

    const diagnostics = typecheck(file);
    const found = diagnostics.map((d) => ({
      line: d.file!.getLineAndCharacterOfPosition(d.start!).line + 1,
      code: d.code,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
    expect(found).toHaveLength(expected.length);
    expected.forEach(({ line, name }, i) => {
      expect(found[i]).toMatchObject({ line, code: 1241 }); // "Unable to resolve signature of method decorator"
      expect(found[i].message).toContain(`fallback '${name}' is not a public method of this class`);
    });
  });
});
