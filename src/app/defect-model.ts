/**
 * The project's trained sparse-defect MEGNet, shipped with the app (the
 * files come from models/defects/export/, written by models/defects/export.py)
 * and precached by the service worker like every other asset.
 */
import manifestUrl from '../../models/defects/export/megnet-sparse.json?url';
import binUrl from '../../models/defects/export/megnet-sparse.bin?url';
import type { ModelManifest } from '../core/defects/model-file';
import { DefectModel } from '../core/defects/predict';

let loading: Promise<DefectModel> | null = null;

export function loadDefectModel(): Promise<DefectModel> {
  loading ??= (async () => {
    const [m, b] = await Promise.all([fetch(manifestUrl), fetch(binUrl)]);
    if (!m.ok || !b.ok) throw new Error(`could not load the defect model (${m.ok ? b.status : m.status})`);
    return new DefectModel((await m.json()) as ModelManifest, await b.arrayBuffer());
  })().catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}
