import { execFileSync } from 'node:child_process';

/** Debian's Python, where pymatgen and ASE are installed as the references for our tests. */
export const PY = '/usr/bin/python3';

/** Whether PY can import these modules ("pymatgen.core, ase.io"): the Python-backed tests skip, saying so, where not. */
export function pythonHas(modules: string): boolean {
  try {
    execFileSync(PY, ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
