"""Operations tooling: start the coach (stack), measure it (bench, evaluation), write the README's sample, build
the name list and the Teams package. Nothing here runs inside the coach; the coach never imports it."""
