"""The word ids every model here reads, as keras.datasets.imdb numbers them.

0 pads a text to its length, 1 starts every text, 2 stands for a word outside the
vocabulary, and the word of frequency rank r (1 for the most frequent) is r + 3.
"""

PAD = 0
START = 1
OOV = 2
INDEX_FROM = 3
