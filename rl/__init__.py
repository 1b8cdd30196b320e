"""ML side of ielts-aes: data, scorer, rewriter, reward and training. No Django imports here."""
