import ts from 'typescript';

/** An exported name of an entry point whose documentation is missing. */
export interface DocProblem {
  readonly name: string;
  readonly problem: string;
}

const hasJsDoc = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).length > 0;

/** The declaration that carries a variable's JSDoc: its statement. */
function documentedNode(declaration: ts.Declaration): ts.Node {
  if (ts.isVariableDeclaration(declaration) && ts.isVariableDeclarationList(declaration.parent))
    return declaration.parent.parent;
  return declaration;
}

/** Whether a property signature says what happens when it is left out. */
function hasDefault(member: ts.TypeElement): boolean {
  return ts.getJSDocTags(member).some((tag) => tag.tagName.text === 'default');
}

/**
 * The exports of `entryFile` (a package's `src/index.ts` or another entry point) that are
 * not documented: every exported name needs JSDoc on its declaration, and every optional
 * member of an exported options type (an interface or object type named `...Options` or
 * `...Settings`) needs a `@default` tag saying what leaving it out means.
 */
export function undocumentedExports(entryFile: string, compilerOptions: ts.CompilerOptions = {}): DocProblem[] {
  const program = ts.createProgram([entryFile], { ...compilerOptions, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entryFile);
  if (source === undefined) throw new Error(`cannot read ${entryFile}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) return [];
  const problems: DocProblem[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = symbol.declarations ?? [];
    const name = exported.name;
    if (declarations.length === 0) continue;
    if (!declarations.some((declaration) => hasJsDoc(documentedNode(declaration)))) {
      problems.push({ name, problem: 'has no JSDoc' });
    }
    const isOptions = /(Options|Settings)$/.test(name);
    for (const declaration of isOptions ? declarations : []) {
      const members = ts.isInterfaceDeclaration(declaration)
        ? declaration.members
        : ts.isTypeAliasDeclaration(declaration) && ts.isTypeLiteralNode(declaration.type)
          ? declaration.type.members
          : undefined;
      for (const member of members ?? []) {
        if (!ts.isPropertySignature(member) || member.questionToken === undefined) continue;
        if (!hasDefault(member))
          problems.push({ name: `${name}.${member.name.getText()}`, problem: 'is optional with no @default' });
      }
    }
  }
  return problems;
}
