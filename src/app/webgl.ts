let software: boolean | undefined;

/**
 * Whether WebGL here is a software renderer (SwiftShader, llvmpipe, Microsoft
 * Basic Render Driver). The view turns antialiasing off there: multisampling
 * multiplies the raster cost of every frame on the CPU, and on SwiftShader
 * it made a defect edit reach the screen in 1.5 s instead of 0.15 s (the
 * frame, not the edit, was the cost). Hardware GPUs keep it. Generation
 * reports less often there (generate/protocol.ts). Probed once per page with
 * a throwaway context: the renderer does not change.
 */
export function softwareWebgl(): boolean {
  software ??= probeSoftwareWebgl();
  return software;
}

function probeSoftwareWebgl(): boolean {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl');
  if (!gl) return false;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
}
