"""ComfyUI objects <-> the core: MODEL wrappers, KSAMPLERs, CONTROL_NET application, loaders, the caches.

The only layer besides :mod:`repaint_extend.nodes` that imports ComfyUI; one module per concern. Imports
go core -> adapters -> nodes, never back.
"""
