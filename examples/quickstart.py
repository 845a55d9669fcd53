"""Quickstart: every op on a 12-layer Llama built from a config (no download), checked against a rebuilt copy."""

import torch
import transformers

import painters

torch.manual_seed(0)
config = transformers.LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=128, num_hidden_layers=12,
                                  num_attention_heads=4, num_key_value_heads=2)
model = transformers.LlamaForCausalLM(config).eval()
ids = torch.randint(0, 100, (1, 16))
with torch.no_grad():
    base = model(ids, use_cache=False).logits
    for op in [painters.skip(4, 8), painters.swap(2, 9), painters.repeat(4, 6, times=3), painters.reverse(4, 8),
               painters.shuffle(4, 8, seed=0), painters.parallel(4, 8), painters.parallel(4, 8, iterations=3),
               painters.middle_repeat(4, 8), painters.order([0, 1, (2, 3), 5, 5, 11])]:
        with painters.apply(model, op) as plan:
            logits = model(ids, use_cache=False).logits
            tokens = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=0)[0, -4:].tolist()
        change = (logits - base).abs().mean().item()
        print(f"{str(op):45} {plan.describe():42} mean |dlogit| {change:.4f}  next tokens {tokens}")
