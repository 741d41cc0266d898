//go:build amd64 && !purego

#include "textflag.h"

// scryptBlockMix for two independent hashes at once: each 256-bit register holds the same
// vector of both, hash A in the low 128 bits and hash B in the high, so one instruction stream
// advances both. The Salsa20/8 core is a chain of dependent steps that leaves a core mostly idle
// waiting on latencies; a second chain in the same instructions comes almost free. Blocks are in
// diagonal order (see salsa_amd64.go), which makes a column round lane by lane and a row round
// the same after rotating three vectors within their 128-bit halves (VPSHUFD does exactly that).
//
// Registers: Y0-Y3 the running block T, Y4-Y7 the rounds' working copy (vectors a b c d), Y8-Y9
// scratch. SI/R9 src A/B, DX/R10 xor A/B (or 0), DI/R8 even/odd output blocks of A, R11/R12 of
// B, CX pairs of blocks left.

// One step of four quarter-rounds per hash: dst ^= rotl(s1 + s2, c).
#define STEP_AVX512(s1, s2, dst, c) \
	VPADDD s1, s2, Y8; \
	VPROLD $c, Y8, Y8; \
	VPXORD Y8, dst, dst

// Without AVX-512 a rotation is two shifts and an OR.
#define STEP_AVX2(s1, s2, dst, c) \
	VPADDD s1, s2, Y8; \
	VPSLLD $c, Y8, Y9; \
	VPSRLD $(32-c), Y8, Y8; \
	VPOR Y9, Y8, Y8; \
	VPXOR Y8, dst, dst

#define DOUBLEROUND_AVX512 \
	STEP_AVX512(Y4, Y7, Y5, 7); \
	STEP_AVX512(Y5, Y4, Y6, 9); \
	STEP_AVX512(Y6, Y5, Y7, 13); \
	STEP_AVX512(Y7, Y6, Y4, 18); \
	VPSHUFD $0x93, Y5, Y5; \
	VPSHUFD $0x4E, Y6, Y6; \
	VPSHUFD $0x39, Y7, Y7; \
	STEP_AVX512(Y4, Y5, Y7, 7); \
	STEP_AVX512(Y7, Y4, Y6, 9); \
	STEP_AVX512(Y6, Y7, Y5, 13); \
	STEP_AVX512(Y5, Y6, Y4, 18); \
	VPSHUFD $0x39, Y5, Y5; \
	VPSHUFD $0x4E, Y6, Y6; \
	VPSHUFD $0x93, Y7, Y7

// T = Salsa20/8(T) for both hashes (the input block already XORed in), A's half written to
// outA and B's to outB.
#define SALSA_OUT_AVX512(outA, outB) \
	VMOVDQA Y0, Y4; \
	VMOVDQA Y1, Y5; \
	VMOVDQA Y2, Y6; \
	VMOVDQA Y3, Y7; \
	DOUBLEROUND_AVX512; \
	DOUBLEROUND_AVX512; \
	DOUBLEROUND_AVX512; \
	DOUBLEROUND_AVX512; \
	VPADDD Y4, Y0, Y0; \
	VPADDD Y5, Y1, Y1; \
	VPADDD Y6, Y2, Y2; \
	VPADDD Y7, Y3, Y3; \
	VMOVDQU X0, 0(outA); \
	VMOVDQU X1, 16(outA); \
	VMOVDQU X2, 32(outA); \
	VMOVDQU X3, 48(outA); \
	VEXTRACTI128 $1, Y0, 0(outB); \
	VEXTRACTI128 $1, Y1, 16(outB); \
	VEXTRACTI128 $1, Y2, 32(outB); \
	VEXTRACTI128 $1, Y3, 48(outB)

#define DOUBLEROUND_AVX2 \
	STEP_AVX2(Y4, Y7, Y5, 7); \
	STEP_AVX2(Y5, Y4, Y6, 9); \
	STEP_AVX2(Y6, Y5, Y7, 13); \
	STEP_AVX2(Y7, Y6, Y4, 18); \
	VPSHUFD $0x93, Y5, Y5; \
	VPSHUFD $0x4E, Y6, Y6; \
	VPSHUFD $0x39, Y7, Y7; \
	STEP_AVX2(Y4, Y5, Y7, 7); \
	STEP_AVX2(Y7, Y4, Y6, 9); \
	STEP_AVX2(Y6, Y7, Y5, 13); \
	STEP_AVX2(Y5, Y6, Y4, 18); \
	VPSHUFD $0x39, Y5, Y5; \
	VPSHUFD $0x4E, Y6, Y6; \
	VPSHUFD $0x93, Y7, Y7

// T = Salsa20/8(T) for both hashes (the input block already XORed in), A's half written to
// outA and B's to outB.
#define SALSA_OUT_AVX2(outA, outB) \
	VMOVDQA Y0, Y4; \
	VMOVDQA Y1, Y5; \
	VMOVDQA Y2, Y6; \
	VMOVDQA Y3, Y7; \
	DOUBLEROUND_AVX2; \
	DOUBLEROUND_AVX2; \
	DOUBLEROUND_AVX2; \
	DOUBLEROUND_AVX2; \
	VPADDD Y4, Y0, Y0; \
	VPADDD Y5, Y1, Y1; \
	VPADDD Y6, Y2, Y2; \
	VPADDD Y7, Y3, Y3; \
	VMOVDQU X0, 0(outA); \
	VMOVDQU X1, 16(outA); \
	VMOVDQU X2, 32(outA); \
	VMOVDQU X3, 48(outA); \
	VEXTRACTI128 $1, Y0, 0(outB); \
	VEXTRACTI128 $1, Y1, 16(outB); \
	VEXTRACTI128 $1, Y2, 32(outB); \
	VEXTRACTI128 $1, Y3, 48(outB)

// T ^= the 64-byte blocks at off(pA) for A and off(pB) for B.
#define XOR_IN(off, pA, pB) \
	VMOVDQU (off+0)(pA), X8; \
	VINSERTI128 $1, (off+0)(pB), Y8, Y8; \
	VMOVDQU (off+16)(pA), X9; \
	VINSERTI128 $1, (off+16)(pB), Y9, Y9; \
	VPXOR Y8, Y0, Y0; \
	VPXOR Y9, Y1, Y1; \
	VMOVDQU (off+32)(pA), X8; \
	VINSERTI128 $1, (off+32)(pB), Y8, Y8; \
	VMOVDQU (off+48)(pA), X9; \
	VINSERTI128 $1, (off+48)(pB), Y9, Y9; \
	VPXOR Y8, Y2, Y2; \
	VPXOR Y9, Y3, Y3

// Output pointers, and T = the last input block of each hash (XORed into by the caller's
// xor blocks when given). AX and BX end up at those last blocks of src A and B.
#define PROLOGUE \
	MOVQ dstA+0(FP), DI; \
	MOVQ srcA+8(FP), SI; \
	MOVQ xorA+16(FP), DX; \
	MOVQ dstB+24(FP), R11; \
	MOVQ srcB+32(FP), R9; \
	MOVQ xorB+40(FP), R10; \
	MOVQ r+48(FP), CX; \
	MOVQ CX, R8; \
	SHLQ $6, R8; \
	MOVQ R8, R12; \
	ADDQ DI, R8; \
	ADDQ R11, R12; \
	MOVQ CX, AX; \
	SHLQ $7, AX; \
	SUBQ $64, AX; \
	MOVQ AX, BX; \
	ADDQ SI, AX; \
	ADDQ R9, BX; \
	VPXOR Y0, Y0, Y0; \
	VPXOR Y1, Y1, Y1; \
	VPXOR Y2, Y2, Y2; \
	VPXOR Y3, Y3, Y3; \
	XOR_IN(0, AX, BX)

// func blockMix2AVX512(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int)
TEXT ·blockMix2AVX512(SB), NOSPLIT, $0-56
	PROLOGUE
	TESTQ DX, DX
	JZ avx512plain
	MOVQ CX, AX
	SHLQ $7, AX
	SUBQ $64, AX
	MOVQ AX, BX
	ADDQ DX, AX
	ADDQ R10, BX
	XOR_IN(0, AX, BX)

avx512xor:
	XOR_IN(0, SI, R9)
	XOR_IN(0, DX, R10)
	SALSA_OUT_AVX512(DI, R11)
	XOR_IN(64, SI, R9)
	XOR_IN(64, DX, R10)
	SALSA_OUT_AVX512(R8, R12)
	ADDQ $128, SI
	ADDQ $128, R9
	ADDQ $128, DX
	ADDQ $128, R10
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R11
	ADDQ $64, R12
	DECQ CX
	JNZ avx512xor
	VZEROUPPER
	RET

avx512plain:
	XOR_IN(0, SI, R9)
	SALSA_OUT_AVX512(DI, R11)
	XOR_IN(64, SI, R9)
	SALSA_OUT_AVX512(R8, R12)
	ADDQ $128, SI
	ADDQ $128, R9
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R11
	ADDQ $64, R12
	DECQ CX
	JNZ avx512plain
	VZEROUPPER
	RET

// func blockMix2AVX2(dstA, srcA, xorA, dstB, srcB, xorB *uint32, r int)
TEXT ·blockMix2AVX2(SB), NOSPLIT, $0-56
	PROLOGUE
	TESTQ DX, DX
	JZ avx2plain
	MOVQ CX, AX
	SHLQ $7, AX
	SUBQ $64, AX
	MOVQ AX, BX
	ADDQ DX, AX
	ADDQ R10, BX
	XOR_IN(0, AX, BX)

avx2xor:
	XOR_IN(0, SI, R9)
	XOR_IN(0, DX, R10)
	SALSA_OUT_AVX2(DI, R11)
	XOR_IN(64, SI, R9)
	XOR_IN(64, DX, R10)
	SALSA_OUT_AVX2(R8, R12)
	ADDQ $128, SI
	ADDQ $128, R9
	ADDQ $128, DX
	ADDQ $128, R10
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R11
	ADDQ $64, R12
	DECQ CX
	JNZ avx2xor
	VZEROUPPER
	RET

avx2plain:
	XOR_IN(0, SI, R9)
	SALSA_OUT_AVX2(DI, R11)
	XOR_IN(64, SI, R9)
	SALSA_OUT_AVX2(R8, R12)
	ADDQ $128, SI
	ADDQ $128, R9
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R11
	ADDQ $64, R12
	DECQ CX
	JNZ avx2plain
	VZEROUPPER
	RET
